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
    private readonly bool _deleteOnDispose;
    private volatile bool _disposed;

    private SegmentedLog(LogFile log, bool deleteOnDispose = false)
    {
        _log = log;
        _deleteOnDispose = deleteOnDispose;
        OpenHandles.Opened(this);
    }

    /// <summary>The path of the backing file.</summary>
    public string FilePath => _log.FilePath;

    /// <summary>Records per segment.</summary>
    public int SegmentCapacity => Live.SegmentCapacity;

    /// <summary>Data bytes per segment.</summary>
    public int SegmentBytes => Live.SegmentBytes;

    /// <summary>The retention target the file was created with.</summary>
    public long RetainedCapacity => Live.Parameters.RetainedCapacity;

    /// <summary>What the log keeps: a rolling window, or every record in a file that grows.</summary>
    public LogRetention Retention => Live.Parameters.Retention;

    /// <summary>The growth limit of the file under <see cref="LogRetention.Unbounded"/>; 0 under Window.</summary>
    public long MaxBytes => Live.Parameters.MaxBytes;

    /// <summary>Reader and snapshot slots in the file.</summary>
    public int MaxReaders => Live.Shared.Header.MaxReaders;

    /// <summary>Segment slots the file was created with (retained + head + spare; 1 under <see cref="LogRetention.Unbounded"/>, whose file grows).</summary>
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
        return new SegmentedLog(LogFile.Create(FileStore.ResolvePath(name, options.Directory), options), options.DeleteOnDispose);
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

    /// <summary>
    /// Opens an existing log file for inspection only, mapped without write access: <see cref="GetStatus"/>, the
    /// properties and <see cref="IsCompleted"/> work; readers, snapshots and the writer (which write to the file) throw
    /// <see cref="InvalidOperationException"/>. Opening changes nothing in the file, and works for a user who may only
    /// read it.
    /// </summary>
    /// <exception cref="SharedLogException">The file does not exist or cannot be mapped.</exception>
    /// <exception cref="SharedLogFormatException">The file is not a valid, compatible log.</exception>
    public static SegmentedLog OpenReadOnly(string name, string? directory = null)
        => new(LogFile.Open(FileStore.ResolvePath(name, directory), readOnly: true));

    /// <summary>
    /// Opens an existing log file, waiting up to <paramref name="waitForCreation"/> for it to be created: for readers
    /// that start before the writer. <see cref="Timeout.InfiniteTimeSpan"/> waits until it appears or the token is cancelled.
    /// </summary>
    /// <exception cref="SharedLogException">The file did not appear in time, or cannot be mapped.</exception>
    /// <exception cref="SharedLogFormatException">The file is not a valid, compatible log.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    public static SegmentedLog Open(string name, string? directory, TimeSpan waitForCreation, CancellationToken cancellationToken = default)
    {
        string path = FileStore.ResolvePath(name, directory);
        return FileStore.OpenWhenCreated(path, () => new SegmentedLog(LogFile.Open(path)), waitForCreation, cancellationToken);
    }

    /// <summary>
    /// Opens the log if it exists, or creates it with <paramref name="options"/> (racing creators settle on one file).
    /// The restart pattern: <c>OpenOrCreate</c>, then <see cref="TryClaimWriter"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The file exists with parameters that contradict <paramref name="options"/> (the message names the field).</exception>
    public static SegmentedLog OpenOrCreate(string name, SegmentedLogOptions? options = null)
    {
        var log = FileStore.OpenOrCreate(FileStore.ResolvePath(name, options?.Directory), () => Open(name, options?.Directory), () => Create(name, options));
        if (options is not null && !log._deleteOnDispose)
        {
            try
            {
                log.CheckMatches(options);
            }
            catch
            {
                log.Dispose();
                throw;
            }
        }

        return log;
    }

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

        return new LogReader(new LogCursor(this, _log, from, -1, idle));
    }

    /// <summary>
    /// Creates a tailing reader that starts at <paramref name="fromSequence"/> if that record is retained, or at the
    /// oldest retained record otherwise, with the records skipped counted in <see cref="LogReader.LostCount"/> (as if
    /// the reader had stopped just before <paramref name="fromSequence"/>). <see cref="LogStatus.NextSequence"/> starts
    /// at the next record appended.
    /// </summary>
    /// <param name="fromSequence">The first sequence to read: 0 to <see cref="LogStatus.NextSequence"/>.</param>
    /// <param name="idle">How the reader's waits idle; null for <see cref="IdleStrategy.Default"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fromSequence"/> is negative or beyond the next sequence.</exception>
    /// <exception cref="SharedLogException">The reader table is full.</exception>
    public LogReader CreateReader(long fromSequence, IdleStrategy? idle = null)
    {
        var log = Live;
        long next = log.ReadNextSequence();
        if (fromSequence < 0 || fromSequence > next)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(fromSequence),
                $"Sequence {fromSequence} is not in [0, {next}]: a reader starts at a record appended already or at the next one.");
        }

        return new LogReader(new LogCursor(this, log, ReadFrom.Oldest, fromSequence, idle));
    }

    /// <summary>Whether the writer completed the log (<see cref="LogWriter.Complete"/>): readers drain it, then their reads and waits end.</summary>
    public bool IsCompleted => Live.CompletedAt >= 0;

    /// <summary>The pid of the process holding the writer lease, or 0 when none does.</summary>
    public int WriterProcessId => Live.Shared.DescribeWriter().Pid;

    /// <summary>
    /// Describes the log's window, segments, writer lease and reader table at this instant (for inspection tools).
    /// Reader slots are read first, so no reader appears ahead of <see cref="LogStatus.NextSequence"/>.
    /// </summary>
    public LogStatus GetStatus()
    {
        var log = Live;
        var readers = log.Shared.Readers.DescribeOccupied(positionIsPin: false);
        for (int attempt = 0; ; attempt++)
        {
            var (oldest, head) = log.ReadWindow();
            if (!log.IsWindowValid(head, oldest))
            {
                log.ThrowIfWindowUnchanged(head, oldest, $"the window of generations [{oldest}, {head}] is not valid for {log.SlotCount} slots");
                continue;
            }

            var segments = new List<SegmentStatus>((int)(head - oldest + 1));
            bool intact = true;
            for (long generation = oldest; generation <= head && intact; generation++)
            {
                var segment = log.SegmentAt(generation);
                long first = segment.ReadFirstSequence();
                int count = segment.ReadCount();
                intact = segment.Holds(generation);
                segments.Add(new SegmentStatus(generation, first, count, generation == head));
            }

            if (!intact && attempt < 1024)
            {
                // The writer reused the oldest slot while we looked: look again.
                continue;
            }

            long next = segments[^1].FirstSequence + segments[^1].Count;
            var (writerPid, liveness) = log.Shared.DescribeWriter();
            int extents = (int)log.ReadExtentCount();
            return new LogStatus(head, oldest, segments[0].FirstSequence, next, writerPid, writerPid != 0 && liveness != Platform.Liveness.Dead,
                Leases.ReaderTable.ToStatus(readers, next), log.CompletedAt >= 0, segments)
            {
                Retention = log.Parameters.Retention,
                ExtentCount = extents,
                MappedExtentCount = log.MappedExtentCount,
                FileBytes = log.IsUnbounded ? log.Parameters.ExtentsLength(extents) : log.Shared.Header.FileLength,
                MaxBytes = log.Parameters.MaxBytes,
            };
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
        OpenHandles.Closed(this);
        _log.Shared.DataSignal.KickLocalWaiters();
        if (_deleteOnDispose && _log.Shared.IsStillNamed())
        {
            FileStore.Delete(_log.FilePath);
        }

        _log.Region.Release();
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first parameter of the file that <paramref name="options"/> contradict.</summary>
    private void CheckMatches(SegmentedLogOptions options)
    {
        var wanted = LogParameters.Plan(options);
        var actual = _log.Parameters;
        ParameterCheck.ThrowIfContradicts("log", _log.FilePath, "SegmentCapacity", actual.SegmentCapacity, wanted.SegmentCapacity);
        ParameterCheck.ThrowIfContradicts("log", _log.FilePath, "SegmentBytes", actual.SegmentBytes, wanted.SegmentBytes);
        ParameterCheck.ThrowIfContradicts("log", _log.FilePath, "RetainedCapacity", actual.RetainedCapacity, wanted.RetainedCapacity);
        ParameterCheck.ThrowIfContradicts("log", _log.FilePath, "SpareSegments", actual.SpareSegments, wanted.SpareSegments);
        ParameterCheck.ThrowIfContradicts("log", _log.FilePath, "Retention", (long)actual.Retention, (long)wanted.Retention);
        ParameterCheck.ThrowIfContradicts("log", _log.FilePath, "MaxBytes", actual.MaxBytes, wanted.MaxBytes);
        _log.Shared.Header.ThrowIfContradicts("log", _log.FilePath, options.MaxReaders, options.SlowReaderPolicy, options.SlowReaderTimeout);
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
