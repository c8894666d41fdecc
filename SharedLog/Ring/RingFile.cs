using System.Numerics;
using System.Runtime.CompilerServices;
using SharedLog.Layout;
using SharedLog.Memory;
using SharedLog.Readers;
using SharedLog.Waiting;

namespace SharedLog.Ring;

/// <summary>
/// The validated geometry of a mapped ring file and typed access to its fields. Every pointer handed out comes from
/// parameters that <see cref="Validate"/> checked against the mapping's length; data indexes are always
/// <c>position &amp; Mask</c>, so no position read from the mapping can address outside the data.
/// </summary>
internal sealed unsafe class RingFile
{
    private RingFile(MappedRegion region, in Geometry geometry, SlowReaderPolicy policy, TimeSpan slowReaderTimeout)
    {
        Region = region;
        Capacity = geometry.Capacity;
        Mask = geometry.Capacity - 1;
        DataOffset = geometry.DataOffset;
        MaxReaders = geometry.MaxReaders;
        Policy = policy;
        SlowReaderTimeout = slowReaderTimeout;
        Readers = new ReaderTable(region, FileLayout.ReaderTableOffset, geometry.MaxReaders);
        DataSignal = new Signal(region, FileLayout.DataSignalOffset, FileLayout.DataWaitersOffset);
        SpaceSignal = new Signal(region, FileLayout.SpaceSignalOffset, FileLayout.SpaceWaitersOffset);
    }

    public MappedRegion Region { get; }

    public int Capacity { get; }

    public long Mask { get; }

    public long DataOffset { get; }

    public int MaxReaders { get; }

    public SlowReaderPolicy Policy { get; }

    public TimeSpan SlowReaderTimeout { get; }

    public ReaderTable Readers { get; }

    /// <summary>Readers sleep on it while they wait for data; the writer notifies after each publish and on completion.</summary>
    public Signal DataSignal { get; }

    /// <summary>The writer sleeps on it while it waits for space; readers notify when they move or drop a pin.</summary>
    public Signal SpaceSignal { get; }

    public string FilePath => Region.FilePath;

    public byte* Data => Region.Base + DataOffset;

    public long* WriterPosition => (long*)(Region.Base + RingLayout.WriterPositionOffset);

    public long* TailPosition => (long*)(Region.Base + RingLayout.TailPositionOffset);

    public long* TailIntent => (long*)(Region.Base + RingLayout.TailIntentOffset);

    public long* CompletedPosition => (long*)(Region.Base + RingLayout.CompletedPositionOffset);

    public long* CachedMinReaderPosition => (long*)(Region.Base + RingLayout.CachedMinReaderPositionOffset);

    public long* JoinSequence => (long*)(Region.Base + RingLayout.JoinSequenceOffset);

    public byte* WriterBlock => Region.Base + FileLayout.WriterOwnerOffset;

    /// <summary>The index of <paramref name="position"/> in the data.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int IndexOf(long position) => (int)(position & Mask);

    /// <summary>
    /// Splits <paramref name="length"/> bytes from <paramref name="position"/> at the wrap: the first part runs to the
    /// end of the data (or ends earlier), the second restarts at index 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Split(long position, int length, out int index, out int firstLength, out int secondLength)
    {
        index = IndexOf(position);
        firstLength = Math.Min(length, Capacity - index);
        secondLength = length - firstLength;
    }

    /// <summary>Copies bytes at a position out of the data (no validation: the caller validates afterwards).</summary>
    public void CopyOut(long position, Span<byte> destination)
    {
        Split(position, destination.Length, out int index, out int first, out int second);
        new ReadOnlySpan<byte>(Data + index, first).CopyTo(destination);
        if (second > 0)
        {
            new ReadOnlySpan<byte>(Data, second).CopyTo(destination[first..]);
        }
    }

    /// <summary>Copies bytes into the data at a position the writer has reserved.</summary>
    public void CopyIn(long position, ReadOnlySpan<byte> source)
    {
        Split(position, source.Length, out int index, out int first, out int second);
        source[..first].CopyTo(new Span<byte>(Data + index, first));
        if (second > 0)
        {
            source[first..].CopyTo(new Span<byte>(Data, second));
        }
    }

    /// <summary>The pid of the writer lease holder if the OS says it is dead, else 0 (no holder, alive, or unknown).</summary>
    public int DeadWriterPid()
    {
        long word = OwnerBlock.ReadWord(WriterBlock);
        int pid = OwnerBlock.PidOf(word);
        return pid != 0 && OwnerBlock.CheckOwner(WriterBlock, word) == Platform.Liveness.Dead ? pid : 0;
    }

    /// <summary>The layout that options describe; throws <see cref="ArgumentException"/> for options out of range.</summary>
    public static Geometry Plan(ByteRingOptions options)
    {
        if (options.Capacity < RingLayout.MinCapacity || options.Capacity > RingLayout.MaxCapacity || !BitOperations.IsPow2(options.Capacity))
        {
            throw new ArgumentOutOfRangeException(nameof(options),
                $"Capacity must be a power of two from {RingLayout.MinCapacity} to {RingLayout.MaxCapacity} bytes; got {options.Capacity}.");
        }

        if (options.MaxReaders is < 1 or > FileLayout.MaxReadersLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"MaxReaders must be 1 to {FileLayout.MaxReadersLimit}; got {options.MaxReaders}.");
        }

        if (options.SlowReaderTimeout < TimeSpan.Zero || options.SlowReaderTimeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "SlowReaderTimeout must be between zero and 24 days.");
        }

        if (options.SlowReaderPolicy is not (SlowReaderPolicy.Block or SlowReaderPolicy.Evict))
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"Unknown SlowReaderPolicy {options.SlowReaderPolicy}.");
        }

        long dataOffset = AlignUp(FileLayout.ReaderTableOffset + ((long)options.MaxReaders * ReaderSlotLayout.Length), FileLayout.DataAlignment);
        return new Geometry(options.Capacity, options.MaxReaders, dataOffset, dataOffset + options.Capacity);
    }

    /// <summary>Writes the header of a new file (before it is linked under its name).</summary>
    public static void Initialise(MappedRegion region, in Geometry geometry, ByteRingOptions options)
    {
        byte* b = region.Base;
        new Span<byte>(b, (int)geometry.DataOffset).Clear();
        *(ulong*)(b + FileLayout.MagicOffset) = FileLayout.Magic;
        *(int*)(b + FileLayout.VersionOffset) = FileLayout.CurrentVersion;
        *(int*)(b + FileLayout.KindOffset) = FileLayout.KindRing;
        *(long*)(b + FileLayout.FileLengthOffset) = geometry.FileLength;
        *(int*)(b + FileLayout.ReaderTableOffsetOffset) = FileLayout.ReaderTableOffset;
        *(int*)(b + FileLayout.MaxReadersOffset) = geometry.MaxReaders;
        *(long*)(b + FileLayout.DataOffsetOffset) = geometry.DataOffset;
        *(int*)(b + FileLayout.PolicyOffset) = (int)options.SlowReaderPolicy;
        *(int*)(b + FileLayout.SlowReaderTimeoutMsOffset) = (int)options.SlowReaderTimeout.TotalMilliseconds;
        *(long*)(b + FileLayout.CreatedOffset) = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        *(long*)(b + RingLayout.CapacityOffset) = geometry.Capacity;
        *(ulong*)(b + FileLayout.ChecksumOffset) = HeaderChecksum.Compute(b);

        for (int i = 0; i < geometry.MaxReaders; i++)
        {
            *(long*)(b + FileLayout.ReaderTableOffset + ((long)i * ReaderSlotLayout.Length) + ReaderSlotLayout.PinOffset) = ReaderSlotLayout.NoPin;
        }

        *(long*)(b + RingLayout.WriterPositionOffset) = 0;
        *(long*)(b + RingLayout.TailPositionOffset) = 0;
        *(long*)(b + RingLayout.TailIntentOffset) = 0;
        *(long*)(b + RingLayout.CompletedPositionOffset) = RingLayout.NotCompleted;
        *(long*)(b + RingLayout.CachedMinReaderPositionOffset) = ReaderSlotLayout.NoPin;
        *(long*)(b + RingLayout.JoinSequenceOffset) = 0;
    }

    /// <summary>Checks everything in a mapped file before any pointer escapes; throws <see cref="SharedLogFormatException"/>.</summary>
    public static RingFile Validate(MappedRegion region)
    {
        byte* b = region.Base;
        string path = region.FilePath;
        HeaderChecksum.ValidateIdentity(region, FileLayout.KindRing, "byte ring");

        long capacity = *(long*)(b + RingLayout.CapacityOffset);
        if (capacity < RingLayout.MinCapacity || capacity > RingLayout.MaxCapacity || !BitOperations.IsPow2(capacity))
        {
            ThrowHelper.ThrowCorrupt(path, $"its capacity {capacity} is not a power of two from {RingLayout.MinCapacity} to {RingLayout.MaxCapacity}");
        }

        var options = new ByteRingOptions
        {
            Capacity = (int)capacity,
            MaxReaders = *(int*)(b + FileLayout.MaxReadersOffset),
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
            throw new SharedLogFormatException($"'{path}' has an invalid ring geometry: {e.Message}", e);
        }

        if (geometry.DataOffset != *(long*)(b + FileLayout.DataOffsetOffset)
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

        var ring = new RingFile(region, geometry, options.SlowReaderPolicy, options.SlowReaderTimeout);
        ring.ValidatePositions();
        return ring;
    }

    /// <summary>
    /// Checks the hot counters against the invariants in <see cref="RingLayout"/>. They are read in an order that keeps
    /// the checks true while a live writer moves them: writer position, tail, intent, completed, writer position again.
    /// </summary>
    public void ValidatePositions()
    {
        long before = Atomic.ReadAcquire(WriterPosition);
        long tail = Atomic.ReadAcquire(TailPosition);
        long intent = Atomic.ReadAcquire(TailIntent);
        long completed = Atomic.ReadAcquire(CompletedPosition);
        long after = Atomic.ReadAcquire(WriterPosition);
        if (before < 0 || after < before || after > RingLayout.MaxPosition)
        {
            ThrowHelper.ThrowCorrupt(FilePath, $"its writer position {after} is out of range");
        }

        if (tail < 0 || tail < before - Capacity || intent < tail || intent > after)
        {
            ThrowHelper.ThrowCorrupt(FilePath,
                $"its tail {tail} and tail intent {intent} do not fit writer position {after} and capacity {Capacity}");
        }

        if (completed != RingLayout.NotCompleted && (completed < 0 || completed > after))
        {
            ThrowHelper.ThrowCorrupt(FilePath, $"its completed position {completed} is beyond the writer position {after}");
        }
    }

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) & ~(alignment - 1);

    /// <summary>The computed layout of a ring file.</summary>
    internal readonly record struct Geometry(int Capacity, int MaxReaders, long DataOffset, long FileLength);
}
