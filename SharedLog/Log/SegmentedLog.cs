using System.Diagnostics.CodeAnalysis;
using SharedLog.Files;
using SharedLog.Log;

namespace SharedLog;

/// <summary>
/// A segmented log in a memory-mapped file: one writer process appends records with 64-bit sequence numbers, any
/// number of processes read them in place through snapshots and tailing readers. Whole segments are retained in a
/// rolling window and reused once no live reader pins them.
/// </summary>
/// <remarks>
/// A <see cref="SegmentedLog"/> is a handle to the file; the writer, readers and snapshots it creates keep the mapping
/// alive until they are disposed too. Handles are thread-safe; writers, readers and snapshots are each for one thread
/// at a time.
/// </remarks>
public sealed class SegmentedLog : IDisposable
{
    private readonly LogFile _log;
    private volatile bool _disposed;

    private SegmentedLog(LogFile log) => _log = log;

    /// <summary>The path of the backing file.</summary>
    public string FilePath => _log.FilePath;

    /// <summary>Records per segment.</summary>
    public int SegmentCapacity => Live.SegmentCapacity;

    /// <summary>Data bytes per segment.</summary>
    public int SegmentBytes => Live.SegmentBytes;

    /// <summary>The retention target the file was created with.</summary>
    public long RetainedCapacity => Live.Parameters.RetainedCapacity;

    /// <summary>Reader and snapshot slots in the file.</summary>
    public int MaxReaders => Live.Shared.Header.MaxReaders;

    /// <summary>Segment slots in the file (retained + head + spare).</summary>
    public int SlotCount => Live.SlotCount;

    /// <summary>What the writer does about slow readers.</summary>
    public SlowReaderPolicy SlowReaderPolicy => Live.Shared.Header.Policy;

    /// <summary>How long a blocked writer waits before evicting under <see cref="SharedLog.SlowReaderPolicy.Block"/>.</summary>
    public TimeSpan SlowReaderTimeout => Live.Shared.Header.SlowReaderTimeout;

    internal bool IsDisposed => _disposed;

    internal LogFile File => _log;

    /// <summary>Creates a new log file. Fails if one exists under that name.</summary>
    /// <exception cref="ArgumentException">The name or options are invalid.</exception>
    /// <exception cref="SharedLogException">The file exists, or space cannot be reserved for it.</exception>
    public static SegmentedLog Create(string name, SegmentedLogOptions? options = null)
    {
        options ??= new SegmentedLogOptions();
        return new SegmentedLog(LogFile.Create(FileStore.ResolvePath(name, options.Directory), options));
    }

    /// <summary>Creates a new log file and claims its writer.</summary>
    public static (LogWriter Writer, SegmentedLog Log) CreateClaimed(string name, SegmentedLogOptions? options = null)
    {
        var log = Create(name, options);
        if (!log.TryClaimWriter(out var writer))
        {
            log.Dispose();
            throw new SharedLogException($"Another process claimed the writer of '{log.FilePath}' as soon as it was created.");
        }

        return (writer, log);
    }

    /// <summary>Opens an existing log file, validating it completely before use.</summary>
    /// <exception cref="SharedLogException">The file does not exist or cannot be mapped.</exception>
    /// <exception cref="SharedLogFormatException">The file is not a valid, compatible log.</exception>
    public static SegmentedLog Open(string name, string? directory = null)
        => new(LogFile.Open(FileStore.ResolvePath(name, directory)));

    /// <summary>Opens the log if it exists, or creates it with <paramref name="options"/> (racing creators settle on one file).</summary>
    public static SegmentedLog OpenOrCreate(string name, SegmentedLogOptions? options = null)
        => FileStore.OpenOrCreate(FileStore.ResolvePath(name, options?.Directory), () => Open(name, options?.Directory), () => Create(name, options));

    /// <summary>Deletes the log file. Processes that have it open keep their mapping. Returns false if there was none.</summary>
    public static bool Delete(string name, string? directory = null)
        => FileStore.Delete(FileStore.ResolvePath(name, directory));

    /// <summary>
    /// Claims the writer if no live process holds it. A lease whose owner died is taken over at once, and the new
    /// writer recovers whatever the dead one left half-written.
    /// </summary>
    public bool TryClaimWriter([NotNullWhen(true)] out LogWriter? writer)
    {
        ThrowIfDisposed();
        var lease = _log.Shared.TryClaimWriter();
        writer = lease is null ? null : new LogWriter(new LogAppender(_log, lease));
        return writer is not null;
    }

    /// <summary>Takes a stable snapshot of the retained records; dispose it to let the writer reuse its segments.</summary>
    /// <exception cref="SharedLogException">The reader table is full.</exception>
    public LogSnapshot Snapshot()
    {
        ThrowIfDisposed();
        return new LogSnapshot(new LogView(_log));
    }

    /// <summary>Creates a tailing reader starting at the oldest retained record or at the next one appended.</summary>
    /// <param name="from">Where the reader starts.</param>
    /// <param name="idle">How the reader's waits idle; null for <see cref="IdleStrategy.Default"/> (a short spin, then block).</param>
    /// <exception cref="SharedLogException">The reader table is full.</exception>
    public LogReader CreateReader(ReadFrom from = ReadFrom.Oldest, IdleStrategy? idle = null)
    {
        ThrowIfDisposed();
        if (from is not (ReadFrom.Oldest or ReadFrom.Latest))
        {
            throw new ArgumentOutOfRangeException(nameof(from));
        }

        return new LogReader(new LogCursor(this, _log, from, idle));
    }

    /// <summary>The pid of the process holding the writer lease, or 0 when none does.</summary>
    public int WriterProcessId => Live.Shared.DescribeWriter().Pid;

    /// <summary>Describes the log's window, writer lease and reader table at this instant (for inspection tools).</summary>
    public LogStatus GetStatus()
    {
        var log = Live;
        unsafe
        {
            // Oldest before head: both only grow, so the pair read this way never looks inverted.
            long oldest = Memory.Atomic.ReadAcquire(log.OldestGeneration);
            long head = Memory.Atomic.ReadAcquire(log.HeadGeneration);
            var headSegment = log.SegmentAt(head);
            long next = headSegment.ReadFirstSequence() + headSegment.ReadCount();
            long first = log.SegmentAt(oldest).ReadFirstSequence();
            var (writerPid, liveness) = log.Shared.DescribeWriter();
            return new LogStatus(head, oldest, first, next, writerPid, writerPid != 0 && liveness != Platform.Liveness.Dead, log.Shared.Readers.DescribeOccupied());
        }
    }

    /// <summary>
    /// Closes this handle. The mapping stays until the writer, readers and snapshots made from it are disposed.
    /// Waits of its readers end: <see cref="LogReader.WaitAsync(CancellationToken)"/> completes false unless a record
    /// is available.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _log.Shared.DataSignal.KickLocalWaiters();
        _log.Region.Release();
    }

    /// <summary>The file, after checking that this handle is not disposed.</summary>
    private LogFile Live
    {
        get
        {
            ThrowIfDisposed();
            return _log;
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowDisposed(nameof(SegmentedLog));
        }
    }
}
