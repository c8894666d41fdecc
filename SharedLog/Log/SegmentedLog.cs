using System.Diagnostics.CodeAnalysis;
using SharedLog.Layout;
using SharedLog.Log;
using SharedLog.Memory;
using SharedLog.Readers;

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
    public int SegmentCapacity => _log.SegmentCapacity;

    /// <summary>Data bytes per segment.</summary>
    public int SegmentBytes => _log.SegmentBytes;

    /// <summary>The retention target the file was created with.</summary>
    public long RetainedCapacity => _log.RetainedCapacity;

    /// <summary>Reader and snapshot slots in the file.</summary>
    public int MaxReaders => _log.MaxReaders;

    /// <summary>Segment slots in the file (retained + head + spare).</summary>
    public int SlotCount => _log.SlotCount;

    /// <summary>What the writer does about slow readers.</summary>
    public SlowReaderPolicy SlowReaderPolicy => _log.Policy;

    /// <summary>How long a blocked writer waits before evicting under <see cref="SharedLog.SlowReaderPolicy.Block"/>.</summary>
    public TimeSpan SlowReaderTimeout => _log.SlowReaderTimeout;

    internal bool IsDisposed => _disposed;

    internal LogFile File => _log;

    /// <summary>Creates a new log file. Fails if one exists under that name.</summary>
    /// <exception cref="ArgumentException">The name or options are invalid.</exception>
    /// <exception cref="SharedLogException">The file exists, or space cannot be reserved for it.</exception>
    public static SegmentedLog Create(string name, SegmentedLogOptions? options = null)
    {
        options ??= new SegmentedLogOptions();
        string path = MappedRegion.ResolvePath(name, options.Directory);
        var geometry = LogFile.Plan(options);
        var region = MappedRegion.Create(path, geometry.FileLength, r => LogFile.Initialise(r, geometry, options));
        return Wrap(region);
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
    {
        string path = MappedRegion.ResolvePath(name, directory);
        var region = MappedRegion.Open(path, FileLayout.HeaderLength);
        return Wrap(region);
    }

    /// <summary>Opens the log if it exists, or creates it with <paramref name="options"/>.</summary>
    public static SegmentedLog OpenOrCreate(string name, SegmentedLogOptions? options = null)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return Open(name, options?.Directory);
            }
            catch (SharedLogException) when (attempt < 3 && !System.IO.File.Exists(MappedRegion.ResolvePath(name, options?.Directory)))
            {
            }

            try
            {
                return Create(name, options);
            }
            catch (SharedLogException) when (attempt < 3 && System.IO.File.Exists(MappedRegion.ResolvePath(name, options?.Directory)))
            {
            }
        }
    }

    /// <summary>Deletes the log file. Processes that have it open keep their mapping. Returns false if there was none.</summary>
    public static bool Delete(string name, string? directory = null)
        => MappedRegion.Delete(MappedRegion.ResolvePath(name, directory));

    /// <summary>
    /// Claims the writer if no live process holds it. A lease whose owner died is taken over at once, and the new
    /// writer recovers whatever the dead one left half-written.
    /// </summary>
    public bool TryClaimWriter([NotNullWhen(true)] out LogWriter? writer)
    {
        ThrowIfDisposed();
        unsafe
        {
            long owner = OwnerBlock.TryClaim(_log.WriterBlock, out _);
            if (owner == 0)
            {
                writer = null;
                return false;
            }

            writer = new LogWriter(_log, owner);
            return true;
        }
    }

    /// <summary>Takes a stable snapshot of the retained records; dispose it to let the writer reuse its segments.</summary>
    /// <exception cref="SharedLogException">The reader table is full.</exception>
    public LogSnapshot Snapshot()
    {
        ThrowIfDisposed();
        return new LogSnapshot(_log);
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

        return new LogReader(this, _log, from, idle);
    }

    /// <summary>The pid of the process holding the writer lease, or 0 when none does.</summary>
    public int WriterProcessId
    {
        get
        {
            ThrowIfDisposed();
            unsafe
            {
                return OwnerBlock.PidOf(OwnerBlock.ReadWord(_log.WriterBlock));
            }
        }
    }

    /// <summary>Describes the log's window, writer lease and reader table at this instant (for inspection tools).</summary>
    public LogStatus GetStatus()
    {
        ThrowIfDisposed();
        unsafe
        {
            long head = Memory.Atomic.ReadAcquire(_log.HeadGeneration);
            long oldest = Memory.Atomic.ReadAcquire(_log.OldestGeneration);
            byte* headSlot = _log.Slot(head);
            byte* oldestSlot = _log.Slot(oldest);
            long next = Memory.Atomic.ReadAcquire(LogFile.FirstSequenceOf(headSlot)) + _log.ReadCount(headSlot);
            long first = Memory.Atomic.ReadAcquire(LogFile.FirstSequenceOf(oldestSlot));
            long word = OwnerBlock.ReadWord(_log.WriterBlock);
            int writerPid = OwnerBlock.PidOf(word);
            bool writerAlive = writerPid != 0 && OwnerBlock.CheckOwner(_log.WriterBlock, word) != Platform.Liveness.Dead;
            var readers = new List<ReaderStatus>();
            for (int i = 0; i < _log.Readers.Count; i++)
            {
                var info = _log.Readers.Describe(i);
                if (info.Pid != 0)
                {
                    readers.Add(new ReaderStatus(i, info.Pid, info.Role == ReaderSlotLayout.RoleSnapshot, info.State == ReaderSlotLayout.StateEvicted,
                        info.Pin, info.LostCount, info.Liveness != Platform.Liveness.Dead));
                }
            }

            return new LogStatus(head, oldest, first, next, writerPid, writerAlive, readers);
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
        _log.DataSignal.KickLocalWaiters();
        _log.Region.Release();
    }

    private static SegmentedLog Wrap(MappedRegion region)
    {
        try
        {
            return new SegmentedLog(LogFile.Validate(region));
        }
        catch
        {
            region.Release();
            throw;
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
