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

    /// <summary>
    /// What the log keeps. <see cref="LogRetention.Window"/> (the default): a rolling window in a file of fixed size.
    /// <see cref="LogRetention.Unbounded"/>: every record, in a file that grows up to <see cref="MaxBytes"/>; there
    /// <see cref="RetainedCapacity"/>, <see cref="SpareSegments"/>, <see cref="SlowReaderPolicy"/> and
    /// <see cref="SlowReaderTimeout"/> have no effect on retention (nothing is retired, reused or evicted).
    /// </summary>
    public LogRetention Retention { get; init; } = LogRetention.Window;

    /// <summary>
    /// Under <see cref="LogRetention.Unbounded"/>, the largest the file may grow to, in bytes (header, reader table and
    /// segments); it must be set there: 0 (the default) is refused. The file starts with one segment and grows by
    /// extents of 1, 2, 4, ... segments, so it holds <c>2^n - 1</c> segments for the largest <c>n</c> that fits; an
    /// append that needs more throws <see cref="SharedLogException"/> naming MaxBytes, and the log stays readable.
    /// Must be 0 under <see cref="LogRetention.Window"/>.
    /// </summary>
    public long MaxBytes { get; init; }

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
