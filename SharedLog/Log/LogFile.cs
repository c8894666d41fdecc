using System.Runtime.CompilerServices;
using SharedLog.Layout;
using SharedLog.Memory;
using SharedLog.Readers;
using SharedLog.Waiting;

namespace SharedLog.Log;

/// <summary>
/// The validated geometry of a mapped log file and typed access to its fields. Every pointer handed out comes from
/// parameters that <see cref="Validate"/> checked against the mapping's length.
/// </summary>
internal sealed unsafe class LogFile
{
    private LogFile(MappedRegion region, in Geometry geometry, SlowReaderPolicy policy, TimeSpan slowReaderTimeout)
    {
        Region = region;
        SegmentCapacity = geometry.SegmentCapacity;
        SegmentBytes = geometry.SegmentBytes;
        SlotCount = geometry.SlotCount;
        SlotStride = geometry.SlotStride;
        SegmentDataOffset = SegmentLayout.DataOffset(geometry.SegmentCapacity);
        DataOffset = geometry.DataOffset;
        RetainedSegments = geometry.RetainedSegments;
        MaxReaders = geometry.MaxReaders;
        RetainedCapacity = geometry.RetainedCapacity;
        SpareSegments = geometry.SpareSegments;
        Policy = policy;
        SlowReaderTimeout = slowReaderTimeout;
        Readers = new ReaderTable(region, FileLayout.ReaderTableOffset, geometry.MaxReaders);
        DataSignal = new Signal(region, FileLayout.DataSignalOffset, FileLayout.DataWaitersOffset);
        SpaceSignal = new Signal(region, FileLayout.SpaceSignalOffset, FileLayout.SpaceWaitersOffset);
    }

    public MappedRegion Region { get; }

    public int SegmentCapacity { get; }

    public int SegmentBytes { get; }

    public int SlotCount { get; }

    public long SlotStride { get; }

    public long SegmentDataOffset { get; }

    public long DataOffset { get; }

    public int RetainedSegments { get; }

    public int MaxReaders { get; }

    public long RetainedCapacity { get; }

    public int SpareSegments { get; }

    public SlowReaderPolicy Policy { get; }

    public TimeSpan SlowReaderTimeout { get; }

    public ReaderTable Readers { get; }

    /// <summary>Readers sleep here for data; the writer notifies after each commit.</summary>
    public Signal DataSignal { get; }

    /// <summary>The writer sleeps here for space under Block; readers notify when they move or drop a pin.</summary>
    public Signal SpaceSignal { get; }

    public string FilePath => Region.FilePath;

    public long* HeadGeneration => (long*)(Region.Base + LogLayout.HeadGenerationOffset);

    public long* OldestGeneration => (long*)(Region.Base + LogLayout.OldestGenerationOffset);

    public byte* WriterBlock => Region.Base + FileLayout.WriterOwnerOffset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* Slot(long generation) => Region.Base + DataOffset + ((ulong)generation % (ulong)SlotCount * (ulong)SlotStride);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long* GenerationOf(byte* slot) => (long*)(slot + SegmentLayout.GenerationOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long* FirstSequenceOf(byte* slot) => (long*)(slot + SegmentLayout.FirstSequenceOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int* CountOf(byte* slot) => (int*)(slot + SegmentLayout.RecordCountOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int* IndexOf(byte* slot) => (int*)(slot + SegmentLayout.IndexOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* DataOf(byte* slot) => slot + SegmentDataOffset;

    /// <summary>Reads a segment's published record count, checked against the capacity.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadCount(byte* slot)
    {
        // Acquire: pairs with the release of the count in LogWriter.Publish; index entries and records below it are visible.
        int count = Atomic.ReadAcquire(CountOf(slot));
        if ((uint)count > (uint)SegmentCapacity)
        {
            ThrowHelper.ThrowCorrupt(FilePath, $"a segment claims {count} records, more than its capacity {SegmentCapacity}");
        }

        return count;
    }

    /// <summary>
    /// Locates record <paramref name="index"/> of a segment and checks its offset and length against the segment.
    /// Returns false when the bytes do not describe a record (overwritten under the reader, or corrupt); the caller
    /// tells the two apart by re-checking the generation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryLocate(byte* slot, int index, out byte* record, out int payloadLength)
    {
        int offset = IndexOf(slot)[index];
        record = null;
        payloadLength = 0;
        if ((uint)offset > (uint)(SegmentBytes - RecordLayout.HeaderLength) || (offset & (RecordLayout.Alignment - 1)) != 0)
        {
            return false;
        }

        byte* candidate = DataOf(slot) + offset;
        int length = *(int*)(candidate + RecordLayout.LengthOffset);
        if (length < RecordLayout.HeaderLength || length > SegmentBytes - offset)
        {
            return false;
        }

        record = candidate;
        payloadLength = length - RecordLayout.HeaderLength;
        return true;
    }

    /// <summary>The layout that options describe; throws <see cref="ArgumentException"/> for options out of range.</summary>
    public static Geometry Plan(SegmentedLogOptions options)
    {
        if (options.SegmentCapacity is < 1 or > LogLayout.MaxSegmentCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"SegmentCapacity must be 1 to {LogLayout.MaxSegmentCapacity}; got {options.SegmentCapacity}.");
        }

        long segmentBytes = options.SegmentBytes == 0 ? (long)options.SegmentCapacity * 128 : options.SegmentBytes;
        if (segmentBytes < 16 || segmentBytes > LogLayout.MaxSegmentBytes || segmentBytes % RecordLayout.Alignment != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"SegmentBytes must be a multiple of 8 from 16 to {LogLayout.MaxSegmentBytes}; got {segmentBytes}.");
        }

        // The upper bound comes first: it keeps the segment arithmetic below from overflowing (a hostile header may
        // hold any 64-bit value here).
        if (options.RetainedCapacity < 1 || options.RetainedCapacity > (long)LogLayout.MaxSlotCount * options.SegmentCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(options),
                $"RetainedCapacity must be 1 to {(long)LogLayout.MaxSlotCount * options.SegmentCapacity} (SegmentCapacity x {LogLayout.MaxSlotCount}); got {options.RetainedCapacity}.");
        }

        if (options.MaxReaders is < 1 or > FileLayout.MaxReadersLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"MaxReaders must be 1 to {FileLayout.MaxReadersLimit}; got {options.MaxReaders}.");
        }

        if (options.SpareSegments is < 0 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"SpareSegments must be 0 to 1024; got {options.SpareSegments}.");
        }

        if (options.SlowReaderTimeout < TimeSpan.Zero || options.SlowReaderTimeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "SlowReaderTimeout must be between zero and 24 days.");
        }

        if (options.SlowReaderPolicy is not (SlowReaderPolicy.Block or SlowReaderPolicy.Evict))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Unknown SlowReaderPolicy {options.SlowReaderPolicy}.");
        }

        long retainedSegments = (options.RetainedCapacity + options.SegmentCapacity - 1) / options.SegmentCapacity;
        long slotCount = retainedSegments + 1 + options.SpareSegments;
        if (slotCount > LogLayout.MaxSlotCount)
        {
            throw new ArgumentOutOfRangeException(nameof(options),
                $"RetainedCapacity / SegmentCapacity needs {slotCount} segments, more than {LogLayout.MaxSlotCount}; raise SegmentCapacity.");
        }

        long stride = SegmentLayout.Stride(options.SegmentCapacity, (int)segmentBytes);
        long dataOffset = SegmentLayout.AlignUp(FileLayout.ReaderTableOffset + ((long)options.MaxReaders * ReaderSlotLayout.Length), FileLayout.DataAlignment);
        long fileLength = dataOffset + (slotCount * stride);
        if (fileLength > (1L << 40))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"These options need a {fileLength}-byte file, more than 1 TiB.");
        }

        return new Geometry(options.SegmentCapacity, (int)segmentBytes, (int)slotCount, stride, dataOffset, fileLength,
            (int)retainedSegments, options.MaxReaders, options.RetainedCapacity, options.SpareSegments);
    }

    /// <summary>Writes the header and the first segment of a new file (before it is linked under its name).</summary>
    public static void Initialise(MappedRegion region, in Geometry geometry, SegmentedLogOptions options)
    {
        byte* b = region.Base;
        new Span<byte>(b, (int)geometry.DataOffset).Clear();
        *(ulong*)(b + FileLayout.MagicOffset) = FileLayout.Magic;
        *(int*)(b + FileLayout.VersionOffset) = FileLayout.CurrentVersion;
        *(int*)(b + FileLayout.KindOffset) = FileLayout.KindLog;
        *(long*)(b + FileLayout.FileLengthOffset) = geometry.FileLength;
        *(int*)(b + FileLayout.ReaderTableOffsetOffset) = FileLayout.ReaderTableOffset;
        *(int*)(b + FileLayout.MaxReadersOffset) = geometry.MaxReaders;
        *(long*)(b + FileLayout.DataOffsetOffset) = geometry.DataOffset;
        *(int*)(b + FileLayout.PolicyOffset) = (int)options.SlowReaderPolicy;
        *(int*)(b + FileLayout.SlowReaderTimeoutMsOffset) = (int)options.SlowReaderTimeout.TotalMilliseconds;
        *(long*)(b + FileLayout.CreatedOffset) = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        *(int*)(b + LogLayout.SegmentCapacityOffset) = geometry.SegmentCapacity;
        *(int*)(b + LogLayout.SegmentBytesOffset) = geometry.SegmentBytes;
        *(int*)(b + LogLayout.SlotCountOffset) = geometry.SlotCount;
        *(int*)(b + LogLayout.SpareSegmentsOffset) = geometry.SpareSegments;
        *(long*)(b + LogLayout.RetainedCapacityOffset) = geometry.RetainedCapacity;
        *(long*)(b + LogLayout.SlotStrideOffset) = geometry.SlotStride;
        *(int*)(b + LogLayout.RetainedSegmentsOffset) = geometry.RetainedSegments;
        *(ulong*)(b + FileLayout.ChecksumOffset) = HeaderChecksum.Compute(b);

        for (int i = 0; i < geometry.MaxReaders; i++)
        {
            *(long*)(b + FileLayout.ReaderTableOffset + ((long)i * ReaderSlotLayout.Length) + ReaderSlotLayout.PinOffset) = ReaderSlotLayout.NoPin;
        }

        for (int s = 0; s < geometry.SlotCount; s++)
        {
            byte* slot = b + geometry.DataOffset + ((long)s * geometry.SlotStride);
            *GenerationOf(slot) = s == 0 ? 0 : SegmentLayout.ReusingGeneration;
            *FirstSequenceOf(slot) = 0;
            *CountOf(slot) = 0;
        }

        *(long*)(b + LogLayout.HeadGenerationOffset) = 0;
        *(long*)(b + LogLayout.OldestGenerationOffset) = 0;
    }

    /// <summary>Checks everything in a mapped file before any pointer escapes; throws <see cref="SharedLogFormatException"/>.</summary>
    public static LogFile Validate(MappedRegion region)
    {
        byte* b = region.Base;
        string path = region.FilePath;
        HeaderChecksum.ValidateIdentity(region, FileLayout.KindLog, "segmented log");

        var options = new SegmentedLogOptions
        {
            SegmentCapacity = *(int*)(b + LogLayout.SegmentCapacityOffset),
            SegmentBytes = *(int*)(b + LogLayout.SegmentBytesOffset),
            RetainedCapacity = *(long*)(b + LogLayout.RetainedCapacityOffset),
            MaxReaders = *(int*)(b + FileLayout.MaxReadersOffset),
            SpareSegments = *(int*)(b + LogLayout.SpareSegmentsOffset),
            SlowReaderPolicy = (SlowReaderPolicy)(*(int*)(b + FileLayout.PolicyOffset)),
            SlowReaderTimeout = TimeSpan.FromMilliseconds(Math.Max(0, *(int*)(b + FileLayout.SlowReaderTimeoutMsOffset))),
        };

        Geometry geometry;
        try
        {
            geometry = Plan(options);
        }
        catch (ArgumentException e)
        {
            throw new SharedLogFormatException($"'{path}' has an invalid log geometry: {e.Message}", e);
        }

        if (geometry.SlotCount != *(int*)(b + LogLayout.SlotCountOffset)
            || geometry.SlotStride != *(long*)(b + LogLayout.SlotStrideOffset)
            || geometry.DataOffset != *(long*)(b + FileLayout.DataOffsetOffset)
            || geometry.RetainedSegments != *(int*)(b + LogLayout.RetainedSegmentsOffset)
            || geometry.FileLength != *(long*)(b + FileLayout.FileLengthOffset)
            || *(int*)(b + FileLayout.ReaderTableOffsetOffset) != FileLayout.ReaderTableOffset)
        {
            ThrowHelper.ThrowCorrupt(path, "the recorded layout does not match its parameters");
        }

        if (region.Length != geometry.FileLength)
        {
            throw new SharedLogFormatException(
                $"'{path}' is {region.Length} bytes long but its header describes {geometry.FileLength} bytes: it was truncated or extended. Delete it and create it again.");
        }

        var log = new LogFile(region, geometry, options.SlowReaderPolicy, options.SlowReaderTimeout);

        // A live writer may roll while we look, so a mismatch is only corruption if the head did not move meanwhile.
        for (int attempt = 0; ; attempt++)
        {
            long head = Atomic.ReadAcquire(log.HeadGeneration);
            log.CheckWindowBounds(head, Atomic.ReadAcquire(log.OldestGeneration));

            byte* headSlot = log.Slot(head);
            long headGeneration = Atomic.ReadAcquire(GenerationOf(headSlot));
            long headFirst = Atomic.ReadAcquire(FirstSequenceOf(headSlot));
            log.ReadCount(headSlot);
            Atomic.LoadFence();
            if (headGeneration == head && IsSequenceInRange(log, headFirst))
            {
                return log;
            }

            if (attempt >= 3 || Atomic.ReadAcquire(log.HeadGeneration) == head)
            {
                ThrowHelper.ThrowCorrupt(path, headGeneration != head
                    ? $"the head segment slot holds generation {headGeneration}, not {head}"
                    : $"the head segment starts at sequence {headFirst}");
            }
        }
    }

    /// <summary>
    /// Checks the retained window as a writer sees it before appending to it: every slot from the oldest to the head
    /// holds its generation, counts are within capacity and each segment starts where the previous one ended. Called
    /// with the writer lease held, so nothing moves meanwhile (readers only read segments).
    /// </summary>
    /// <exception cref="SharedLogFormatException">The window is inconsistent.</exception>
    public void ValidateWindow()
    {
        long head = Atomic.ReadAcquire(HeadGeneration);
        long oldest = Atomic.ReadAcquire(OldestGeneration);
        CheckWindowBounds(head, oldest);

        long expected = -1;
        for (long generation = oldest; generation <= head; generation++)
        {
            byte* slot = Slot(generation);
            long actual = Atomic.ReadAcquire(GenerationOf(slot));
            if (actual != generation)
            {
                ThrowHelper.ThrowCorrupt(FilePath, $"the slot of retained segment {generation} holds generation {actual}");
            }

            long first = Atomic.ReadAcquire(FirstSequenceOf(slot));
            int count = ReadCount(slot);
            if (!IsSequenceInRange(this, first) || (expected >= 0 && first != expected))
            {
                ThrowHelper.ThrowCorrupt(FilePath, $"segment {generation} starts at sequence {first}, expected {(expected >= 0 ? expected : "0 or more")}");
            }

            expected = first + count;
        }
    }

    /// <summary>Throws unless [<paramref name="oldest"/>, <paramref name="head"/>] is a window the slots can hold.</summary>
    private void CheckWindowBounds(long head, long oldest)
    {
        if (head < 0 || oldest < 0 || oldest > head || head - oldest >= SlotCount)
        {
            ThrowHelper.ThrowCorrupt(FilePath, $"the window of generations [{oldest}, {head}] is not valid for {SlotCount} slots");
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
    private static bool IsSequenceInRange(LogFile log, long first)
        => first >= 0 && first <= long.MaxValue - ((long)log.SlotCount * log.SegmentCapacity);

    /// <summary>The computed layout of a log file.</summary>
    internal readonly record struct Geometry(
        int SegmentCapacity,
        int SegmentBytes,
        int SlotCount,
        long SlotStride,
        long DataOffset,
        long FileLength,
        int RetainedSegments,
        int MaxReaders,
        long RetainedCapacity,
        int SpareSegments);
}
