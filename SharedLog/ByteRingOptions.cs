namespace SharedLog;

/// <summary>How a <see cref="ByteRing"/> is laid out. Fixed when the file is created.</summary>
public sealed class ByteRingOptions
{
    /// <summary>Data bytes in the ring: a power of two from 16 bytes to 1 GiB. Default 1 MiB.</summary>
    public int Capacity { get; init; } = 1 << 20;

    /// <summary>Reader slots in the file. Default 64.</summary>
    public int MaxReaders { get; init; } = 64;

    /// <summary>
    /// What the writer does when the slowest live reader has not yet read the bytes it would overwrite. Default
    /// <see cref="SlowReaderPolicy.Block"/>. With no live reader the writer never waits, whatever the policy.
    /// </summary>
    public SlowReaderPolicy SlowReaderPolicy { get; init; } = SlowReaderPolicy.Block;

    /// <summary>Under <see cref="SlowReaderPolicy.Block"/>, how long the writer waits before it evicts the slowest reader. Default 5 s.</summary>
    public TimeSpan SlowReaderTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The directory of the file: null for /dev/shm on Linux, the temp directory elsewhere.</summary>
    public string? Directory { get; init; }
}
