namespace SharedLog.Tests.Infrastructure;

/// <summary>
/// Tests that start child processes or measure recovery times run one class at a time: the machine has few cores,
/// and a timing bound means little while another test saturates them.
/// </summary>
[CollectionDefinition(Collection)]
public sealed class ProcessTests
{
    public const string Collection = "Child processes";
}
