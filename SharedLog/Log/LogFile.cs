using System.Numerics;
using System.Runtime.CompilerServices;
using SharedLog.Files;
using SharedLog.Layout;
using SharedLog.Memory;

namespace SharedLog.Log;

/// <summary>
/// A segmented log's file: the shared file underneath, the log's parameters, its hot counters (head and oldest
/// generation, extent count) and its segment slots. Every pointer handed out comes from parameters checked against the
/// mapping.
/// </summary>
/// <remarks>
/// Design (Unbounded retention): generation <c>g</c> lives in extent <c>e = floor(log2(g + 1))</c> at index
/// <c>g + 1 - 2^e</c>, which is file offset <c>DataOffset + g x SlotStride</c>: O(1) to find, and never moved. Each
/// extent is mapped as a view of its own the first time a generation in it is touched (<see cref="SegmentAt"/>), under
/// a lock, and stays mapped as long as the region is referenced, so spans handed out from it stay valid. The writer
/// grows (<see cref="GrowFor"/>): check MaxBytes, reserve the blocks (<c>posix_fallocate</c>), map, publish the
/// extent count (release); only then does it roll into the new extent and publish the head. A reader that acquired a
/// head therefore finds an extent count that covers it; a count out of range, or a file shorter than the count needs,
/// is corruption (a <see cref="SharedLogFormatException"/> before anything is mapped, never a fault). A writer killed
/// at any step leaves either the old count (the next writer reserves again: idempotent) or the new one over reserved
/// blocks, and the head where it was.
/// </remarks>
internal sealed unsafe class LogFile
{
    private readonly byte* _slots;
    private SegmentPins? _pins;
    private readonly bool _unbounded;

    /// <summary>Base address of each extent mapped in this process (0 until then); written once each, under <see cref="_growLock"/>.</summary>
    private readonly nint[] _extents;
    private readonly Lock _growLock = new();

    /// <summary>The largest extent count whose length this process checked against the file's (it only grows).</summary>
    private long _checkedExtentCount;

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
        _unbounded = parameters.IsUnbounded;
        MaxExtentCount = parameters.MaxExtentCount;
        SegmentLimit = parameters.SegmentLimit;
        _extents = new nint[MaxExtentCount];
        if (_unbounded)
        {
            // Extent 0 is the segment the file was created with, inside the base mapping.
            _extents[0] = (nint)_slots;
        }

        HeadGeneration = (long*)(file.Base + LogLayout.HeadGenerationOffset);
        OldestGeneration = (long*)(file.Base + LogLayout.OldestGenerationOffset);
        CompletedSequence = (long*)(file.Base + LogLayout.CompletedSequenceOffset);
        ExtentCount = (long*)(file.Base + LogLayout.ExtentCountOffset);
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

    /// <summary>Whether every record is kept and the file grows (<see cref="LogRetention.Unbounded"/>).</summary>
    public bool IsUnbounded => _unbounded;

    /// <summary>Under Unbounded, the most extents MaxBytes allows; 0 under Window.</summary>
    public int MaxExtentCount { get; }

    /// <summary>The most segments the window may span: the slots (Window), or every segment MaxBytes allows (Unbounded).</summary>
    public long SegmentLimit { get; }

    /// <summary>Extents allocated and usable (Unbounded). Release by the writer after the extent's space is reserved, before any head in it; readers acquire it before they map an extent.</summary>
    public long* ExtentCount { get; }

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

    /// <summary>
    /// The segment slot that holds (or will hold) <paramref name="generation"/>. Under Unbounded the generation must lie
    /// in a published extent (every generation up to an acquired head does); its extent is mapped on first use.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Segment SegmentAt(long generation)
    {
        if (!_unbounded)
        {
            return new(this, _slots + ((ulong)generation % (ulong)SlotCount * (ulong)SlotStride));
        }

        int extent = ExtentOf(generation);
        nint[] extents = _extents;
        if ((uint)extent < (uint)extents.Length)
        {
            // Acquire: pairs with the release in MapExtent; the view behind the address is mapped.
            nint address = Volatile.Read(ref extents[extent]);
            if (address != 0)
            {
                return new(this, (byte*)address + (((ulong)generation + 1 - (1UL << extent)) * (ulong)SlotStride));
            }
        }

        return SegmentInUnmappedExtent(generation);
    }

    /// <summary>The extent that holds <paramref name="generation"/> under Unbounded: <c>floor(log2(g + 1))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ExtentOf(long generation) => 63 - BitOperations.LeadingZeroCount((ulong)generation + 1);

    /// <summary>Where extent <paramref name="extent"/> starts in the file.</summary>
    public long ExtentOffset(int extent) => Parameters.ExtentsLength(extent);

    /// <summary>The length of extent <paramref name="extent"/>: <c>2^extent</c> segments.</summary>
    public long ExtentLength(int extent) => (1L << extent) * SlotStride;

    /// <summary>
    /// The writer, before it rolls to <paramref name="generation"/> (Unbounded): if the generation lies beyond the
    /// published extents, grows the file by one extent: checks MaxBytes, reserves the space, maps it, and publishes
    /// the new extent count. Idempotent: a writer killed anywhere in here leaves a file the next one grows again.
    /// </summary>
    /// <exception cref="SharedLogException">MaxBytes does not allow another extent, or the file system is full.</exception>
    public void GrowFor(long generation)
    {
        long count = ReadExtentCount();
        int extent = ExtentOf(generation);
        if (extent < count)
        {
            return;
        }

        // The writer rolls one generation at a time, so it needs at most the next extent.
        if (extent != count)
        {
            ThrowHelper.ThrowCorrupt(FilePath, $"segment {generation} lies in extent {extent}, beyond the next extent {count}");
        }

        int next = (int)count + 1;
        long needed = Parameters.ExtentsLength(next);
        if (next > MaxExtentCount)
        {
            throw new SharedLogException(
                $"The log '{FilePath}' is full: segment {generation} needs the file to grow to {needed} bytes, beyond its MaxBytes of {Parameters.MaxBytes} bytes. " +
                "Every record so far stays readable; create the log with a larger MaxBytes to keep more.");
        }

        Region.Reserve(ExtentOffset(extent), ExtentLength(extent));
        lock (_growLock)
        {
            MapExtentLocked(extent);
        }

        // Release: the extent's space is reserved and zeroed before anyone may map it; pairs with the acquire in ReadExtentCount.
        Atomic.WriteRelease(ExtentCount, next);
    }

    /// <summary>
    /// The extent count (Unbounded), checked: from 1 to what MaxBytes allows, and no longer than the file is (a file
    /// shorter than its extent count claims would fault when read). 0 under Window.
    /// </summary>
    public long ReadExtentCount()
    {
        if (!_unbounded)
        {
            return 0;
        }

        // Acquire: pairs with the release in GrowFor; the extent's blocks are reserved.
        long count = Atomic.ReadAcquire(ExtentCount);
        if (count < 1 || count > MaxExtentCount)
        {
            ThrowHelper.ThrowCorrupt(FilePath, $"its extent count is {count}, but it must be 1 to {MaxExtentCount} (what MaxBytes {Parameters.MaxBytes} allows)");
        }

        if (count > Volatile.Read(ref _checkedExtentCount))
        {
            // Once per new count: the file's length is asked of the OS only when the count grew.
            long needed = Parameters.ExtentsLength((int)count);
            if (needed > Region.Length)
            {
                long length = Region.ReadFileLength();
                if (length < needed)
                {
                    ThrowHelper.ThrowCorrupt(FilePath, $"it is {length} bytes long, but its {count} extents need {needed} bytes: it was truncated");
                }
            }

            Volatile.Write(ref _checkedExtentCount, count);
        }

        return count;
    }

    /// <summary>Extents mapped in this process (Unbounded), for status.</summary>
    public int MappedExtentCount
    {
        get
        {
            int mapped = 0;
            for (int extent = 0; extent < _extents.Length; extent++)
            {
                mapped += Volatile.Read(ref _extents[extent]) != 0 ? 1 : 0;
            }

            return mapped;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Segment SegmentInUnmappedExtent(long generation)
    {
        int extent = ExtentOf(generation);
        if (generation < 0 || extent >= MaxExtentCount)
        {
            ThrowHelper.ThrowCorrupt(FilePath, $"segment {generation} lies beyond the {MaxExtentCount} extents MaxBytes {Parameters.MaxBytes} allows");
        }

        lock (_growLock)
        {
            if (_extents[extent] == 0)
            {
                long count = ReadExtentCount();
                if (extent >= count)
                {
                    ThrowHelper.ThrowCorrupt(FilePath, $"segment {generation} lies in extent {extent}, but the log has only {count} extents");
                }

                MapExtentLocked(extent);
            }
        }

        return SegmentAt(generation);
    }

    /// <summary>Maps extent <paramref name="extent"/> (whose bytes the caller checked are in the file) and publishes its address.</summary>
    private void MapExtentLocked(int extent)
    {
        if (_extents[extent] != 0)
        {
            return;
        }

        byte* address = Region.MapRange(ExtentOffset(extent), ExtentLength(extent));

        // Release: the view is mapped before its address is seen; pairs with the Volatile.Read in SegmentAt.
        Volatile.Write(ref _extents[extent], (nint)address);
    }

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
        => first >= 0 && first <= long.MaxValue - (SegmentLimit * SegmentCapacity);

    /// <summary>Whether [<paramref name="oldest"/>, <paramref name="head"/>] is a window the slots can hold (Unbounded: nothing is ever retired, so oldest is 0).</summary>
    public bool IsWindowValid(long head, long oldest)
        => head >= 0 && oldest >= 0 && oldest <= head && head - oldest < SegmentLimit && (!_unbounded || oldest == 0);

    private static LogFile Wrap(SharedFile file, in LogParameters parameters)
    {
        try
        {
            var log = new LogFile(file, parameters);
            log.ReadExtentCount();
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
