namespace SharedLog;

/// <summary>How a <see cref="SegmentedLog"/> is laid out. Fixed when the file is created.</summary>
public sealed class SegmentedLogOptions
{
    /// <summary>Records per segment. A segment is sealed when it holds this many or its bytes run out. Default 1024.</summary>
    public int SegmentCapacity { get; init; } = 1024;

    /// <summary>Data bytes per segment; 0 (the default) means <see cref="SegmentCapacity"/> × 128.</summary>
    public int SegmentBytes { get; init; }

    /// <summary>
    /// Records the log keeps visible. Whole segments are kept, so the window is rounded up to
    /// <c>ceil(RetainedCapacity / SegmentCapacity)</c> sealed segments plus the segment being written. Default 65536.
    /// </summary>
    public long RetainedCapacity { get; init; } = 65536;

    /// <summary>Reader and snapshot slots in the file. Default 64.</summary>
    public int MaxReaders { get; init; } = 64;

    /// <summary>
    /// Extra segment slots beyond the retention window: retired segments stay readable there, so a reader may lag
    /// by this many segments beyond the window before the writer must block or evict. Default 2.
    /// </summary>
    public int SpareSegments { get; init; } = 2;

    /// <summary>What the writer does when readers pin every slot it could reuse. Default <see cref="SlowReaderPolicy.Block"/>.</summary>
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
