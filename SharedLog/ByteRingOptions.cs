namespace SharedLog;

/// <summary>How a <see cref="ByteRing"/> is laid out. Fixed when the file is created.</summary>
public sealed class ByteRingOptions
{
    /// <summary>
    /// Data bytes in the ring: a power of two from 16 bytes to 1 GiB. Default 1 MiB. Readers can go back over the last
    /// <c>Capacity</c> bytes written, less at most <c>Capacity / 64</c> (see <see cref="ByteRing.OldestPosition"/>).
    /// </summary>
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

    /// <summary>
    /// Delete the file when the handle that created it is disposed (if it is still the file under that name): for
    /// test harnesses and short-lived runs. Processes that have it open keep their mapping. Default false.
    /// </summary>
    public bool DeleteOnDispose { get; init; }

    /// <summary>
    /// The file's permissions on Unix. Default owner read and write only (0600). Readers map the file for reading and
    /// writing (they claim reader slots), so a reader running as another user of the same group needs
    /// <see cref="UnixFileMode.GroupRead"/> and <see cref="UnixFileMode.GroupWrite"/>. Must include owner read and
    /// write; world-writable and execute bits are refused. Applied exactly (not through the umask). Ignored on Windows.
    /// </summary>
    public UnixFileMode Permissions { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite;
}
