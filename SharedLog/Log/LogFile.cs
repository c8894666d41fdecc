using System.Runtime.CompilerServices;
using SharedLog.Files;
using SharedLog.Layout;
using SharedLog.Memory;

namespace SharedLog.Log;

/// <summary>
/// A segmented log's file: the shared file underneath, the log's parameters, its two hot counters (head and oldest
/// generation) and its segment slots. Every pointer handed out comes from parameters checked against the mapping.
/// </summary>
internal sealed unsafe class LogFile
{
    private readonly byte* _slots;
    private SegmentPins? _pins;

    private LogFile(SharedFile file, in LogParameters parameters)
    {
        Shared = file;
        Parameters = parameters;
        SegmentCapacity = parameters.SegmentCapacity;
        SegmentBytes = parameters.SegmentBytes;
        SlotCount = parameters.SlotCount;
        SlotStride = parameters.SlotStride;
        SegmentDataOffset = SegmentLayout.DataOffset(parameters.SegmentCapacity);
        RetainedSegments = parameters.RetainedSegments;
        _slots = file.Region.At(file.Header.DataOffset, parameters.DataLength);
        HeadGeneration = (long*)(file.Base + LogLayout.HeadGenerationOffset);
        OldestGeneration = (long*)(file.Base + LogLayout.OldestGenerationOffset);
        CompletedSequence = (long*)(file.Base + LogLayout.CompletedSequenceOffset);
    }

    /// <summary>The file underneath: header, reader table, signals, writer lease.</summary>
    public SharedFile Shared { get; }

    /// <summary>The segments this handle keeps alive for record leases, made on first use.</summary>
    public SegmentPins Pins => Volatile.Read(ref _pins) ?? Interlocked.CompareExchange(ref _pins, new SegmentPins(this), null) ?? _pins!;

    public LogParameters Parameters { get; }

    public MappedRegion Region => Shared.Region;

    public string FilePath => Shared.FilePath;

    public int SegmentCapacity { get; }

    public int SegmentBytes { get; }

    public int SlotCount { get; }

    public long SlotStride { get; }

    /// <summary>Where a segment's data starts inside its slot.</summary>
    public long SegmentDataOffset { get; }

    public int RetainedSegments { get; }

    public long DataOffset => Shared.Header.DataOffset;

    /// <summary>Generation of the segment being written. Release by the writer after the slot is initialised; readers acquire it.</summary>
    public long* HeadGeneration { get; }

    /// <summary>Oldest retained generation. Raised by the writer (release, then a full fence) before it scans pins to reuse a slot.</summary>
    public long* OldestGeneration { get; }

    /// <summary>0 while the log is open, else the final next sequence + 1. Release by the writer after the last count; readers acquire it.</summary>
    public long* CompletedSequence { get; }

    /// <summary>The final next sequence of a completed log, or -1 while it is open.</summary>
    public long CompletedAt
    {
        get
        {
            // Acquire: pairs with the release in LogAppender.Complete, written after the last record's count.
            long completed = Atomic.ReadAcquire(CompletedSequence);
            return completed == LogLayout.NotCompleted ? -1 : completed - 1;
        }
    }

    /// <summary>Oldest, then head generation (both only grow, so the pair read this way never looks inverted).</summary>
    public (long Oldest, long Head) ReadWindow()
    {
        long oldest = Atomic.ReadAcquire(OldestGeneration);

        // Acquire: pairs with the release of HeadGeneration in LogAppender.Roll.
        return (oldest, Atomic.ReadAcquire(HeadGeneration));
    }

    /// <summary>The sequence the next append gets, as the head segment says now.</summary>
    public long ReadNextSequence()
    {
        while (true)
        {
            long head = Atomic.ReadAcquire(HeadGeneration);
            var segment = SegmentAt(head);
            long next = segment.ReadFirstSequence() + segment.ReadCount();
            if (segment.Holds(head))
            {
                return next;
            }
        }
    }

    /// <summary>Creates a new log file.</summary>
    public static LogFile Create(string path, SegmentedLogOptions options)
    {
        var parameters = LogParameters.Plan(options);
        var header = FileHeader.Plan(FileLayout.KindLog, options.MaxReaders, options.SlowReaderPolicy, options.SlowReaderTimeout, parameters.DataLength);
        return Wrap(SharedFile.Create(path, header, parameters, options.Permissions), parameters);
    }

    /// <summary>Opens and checks an existing log file; throws <see cref="SharedLogFormatException"/> naming what is wrong.</summary>
    public static LogFile Open(string path, bool readOnly = false)
    {
        var file = SharedFile.Open(path, out LogParameters parameters, readOnly);
        return Wrap(file, parameters);
    }

    /// <summary>The segment slot that holds (or will hold) <paramref name="generation"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Segment SegmentAt(long generation) => new(this, _slots + ((ulong)generation % (ulong)SlotCount * (ulong)SlotStride));

    /// <summary>
    /// Checks the retained window as a writer sees it before appending to it: every slot from the oldest to the head
    /// holds its generation, counts are within capacity and each segment starts where the previous one ended. Called
    /// with the writer lease held, so nothing moves meanwhile (readers only read segments).
    /// </summary>
    /// <exception cref="SharedLogFormatException">The window is inconsistent.</exception>
    public void ValidateWindow()
    {
        long oldest = Atomic.ReadAcquire(OldestGeneration);
        long head = Atomic.ReadAcquire(HeadGeneration);
        CheckWindowBounds(head, oldest);

        long expected = -1;
        for (long generation = oldest; generation <= head; generation++)
        {
            var segment = SegmentAt(generation);
            long actual = segment.ReadGeneration();
            if (actual != generation)
            {
                ThrowHelper.ThrowCorrupt(FilePath, $"the slot of retained segment {generation} holds generation {actual}");
            }

            long first = segment.ReadFirstSequence();
            int count = segment.ReadCount();
            if (!IsSequenceInRange(first) || (expected >= 0 && first != expected))
            {
                ThrowHelper.ThrowCorrupt(FilePath, $"segment {generation} starts at sequence {first}, expected {(expected >= 0 ? expected : "0 or more")}");
            }

            expected = first + count;
        }
    }

    /// <summary>
    /// Called when a retained slot did not hold the generation expected of it. The writer reuses a slot only after
    /// raising Oldest past it, and the head's slot only after rolling on, so if neither Head nor Oldest moved since
    /// <paramref name="head"/> and <paramref name="oldest"/> were read, no race explains it: the file is corrupt.
    /// Returns when they moved (the caller retries), so corruption is reported at once instead of after every retry.
    /// </summary>
    public void ThrowIfWindowUnchanged(long head, long oldest, string what)
    {
        Atomic.LoadFence();
        if (Atomic.ReadAcquire(HeadGeneration) == head && Atomic.ReadAcquire(OldestGeneration) == oldest)
        {
            ThrowHelper.ThrowCorrupt(FilePath, what);
        }
    }

    /// <summary>
    /// A first sequence a segment can hold: not negative, and far enough from overflow that a window of records after
    /// it stays positive.
    /// </summary>
    public bool IsSequenceInRange(long first)
        => first >= 0 && first <= long.MaxValue - ((long)SlotCount * SegmentCapacity);

    /// <summary>Whether [<paramref name="oldest"/>, <paramref name="head"/>] is a window the slots can hold.</summary>
    public bool IsWindowValid(long head, long oldest) => head >= 0 && oldest >= 0 && oldest <= head && head - oldest < SlotCount;

    private static LogFile Wrap(SharedFile file, in LogParameters parameters)
    {
        try
        {
            var log = new LogFile(file, parameters);
            log.CheckLiveWindow();
            return log;
        }
        catch
        {
            file.Region.Release();
            throw;
        }
    }

    private void CheckWindowBounds(long head, long oldest)
    {
        if (!IsWindowValid(head, oldest))
        {
            ThrowHelper.ThrowCorrupt(FilePath, $"the window of generations [{oldest}, {head}] is not valid for {SlotCount} slots");
        }
    }

    /// <summary>
    /// Checks the window and the head segment of a file a live writer may be rolling: Oldest is read before Head (both
    /// only grow and Oldest never passes Head, so a stale pair can look too wide but never inverted), and a mismatch is
    /// corruption only if neither moved meanwhile.
    /// </summary>
    private void CheckLiveWindow()
    {
        for (int attempt = 0; ; attempt++)
        {
            long oldest = Atomic.ReadAcquire(OldestGeneration);
            long head = Atomic.ReadAcquire(HeadGeneration);
            if (!IsWindowValid(head, oldest))
            {
                if (attempt < 1024)
                {
                    ThrowIfWindowUnchanged(head, oldest, $"the window of generations [{oldest}, {head}] is not valid for {SlotCount} slots");
                    continue;
                }

                CheckWindowBounds(head, oldest);
            }

            var segment = SegmentAt(head);
            long headGeneration = segment.ReadGeneration();
            long headFirst = segment.ReadFirstSequence();
            segment.ReadCount();
            if (segment.Holds(head) && headGeneration == head && IsSequenceInRange(headFirst))
            {
                return;
            }

            if (attempt >= 1024)
            {
                ThrowHelper.ThrowCorrupt(FilePath, $"the head segment slot holds generation {headGeneration}, not {head}");
            }

            ThrowIfWindowUnchanged(head, oldest, headGeneration != head
                ? $"the head segment slot holds generation {headGeneration}, not {head}"
                : $"the head segment starts at sequence {headFirst}");
        }
    }
}
