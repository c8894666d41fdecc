namespace SharedLog.Tests.Infrastructure;

/// <summary>
/// Tests that measure the whole process (allocated bytes, CPU time) run in this collection, alone, after the
/// parallel ones: other tests' threads would otherwise show up in their figures.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial (whole-process measurements)";
}
