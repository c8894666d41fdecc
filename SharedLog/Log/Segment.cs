using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SharedLog.Layout;
using SharedLog.Memory;

namespace SharedLog.Log;

/// <summary>
/// One segment slot and the record format inside it: the one place that locates, reads, publishes and recovers
/// records, and that reads and writes the segment header with its orderings (see <see cref="SegmentLayout"/> and
/// <see cref="RecordLayout"/>).
/// </summary>
/// <remarks>
/// Design: the writer alone writes a slot. To reuse one it marks the generation -1 with a full fence
/// (<see cref="MarkReusing"/>), initialises it, then publishes the new generation with a release store. Each record is
/// written in place, the next record's length word is zeroed, the index entry is written, and the record's length is
/// stored with release (the commit), then the count with release (the publication). Readers acquire the count (or the
/// generation) before they read, and validate after reading with a load fence and a re-read of the generation
/// (<see cref="Holds"/>): a seqlock, so a reader never acts on bytes of a reused slot without knowing it.
/// </remarks>
internal readonly unsafe struct Segment
{
    private readonly LogFile _log;
    private readonly byte* _slot;

    // The record area and its size, copied from the file's geometry when the handle is made: every append and read
    // reaches them without a dependent load through the file object.
    private readonly byte* _data;
    private readonly int _bytes;

    public Segment(LogFile log, byte* slot)
    {
        _log = log;
        _slot = slot;
        _data = slot + log.SegmentDataOffset;
        _bytes = log.SegmentBytes;
    }

    /// <summary>The slot's address (identity only: two segments are the same slot when these are equal).</summary>
    public byte* Address => _slot;

    public bool IsNull => _slot == null;

    private long* GenerationAddress => (long*)(_slot + SegmentLayout.GenerationOffset);

    private long* FirstSequenceAddress => (long*)(_slot + SegmentLayout.FirstSequenceOffset);

    private int* CountAddress => (int*)(_slot + SegmentLayout.RecordCountOffset);

    private int* Index => (int*)(_slot + SegmentLayout.IndexOffset);

    private byte* Data => _data;

    /// <summary>The generation the slot holds now; -1 while it is being reused. Acquire: pairs with <see cref="PublishGeneration"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ReadGeneration() => Atomic.ReadAcquire(GenerationAddress);

    /// <summary>
    /// Validation after reading (seqlock): true when the slot still holds <paramref name="generation"/>, so every byte
    /// read from it before this call was intact.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Holds(long generation)
    {
        // Load fence: the bytes were read before the generation is re-read; pairs with the full fence in MarkReusing,
        // which precedes every overwrite.
        Atomic.LoadFence();
        return Atomic.ReadAcquire(GenerationAddress) == generation;
    }

    /// <summary>The sequence number of the segment's first record (trust it only after <see cref="Holds"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ReadFirstSequence() => Atomic.ReadAcquire(FirstSequenceAddress);

    /// <summary>The published record count, checked against the capacity.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadCount()
    {
        // Acquire: pairs with the release of the count in Commit; index entries and records below it are visible.
        int count = Atomic.ReadAcquire(CountAddress);
        if ((uint)count > (uint)_log.SegmentCapacity)
        {
            ThrowCountTooLarge(count);
        }

        return count;
    }

    /// <summary>Out of line: <see cref="ReadCount"/> is inlined into the readers, and the message's formatting would come with it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowCountTooLarge(int count)
        => ThrowHelper.ThrowCorrupt(_log.FilePath, $"a segment claims {count} records, more than its capacity {_log.SegmentCapacity}");

    /// <summary>
    /// Reads record <paramref name="index"/> (below a count read before) after checking its offset and length against
    /// the segment. False when the bytes do not describe a record: overwritten under the reader, or corrupt; the
    /// caller tells the two apart with <see cref="Holds"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryRead(int index, long sequence, out LogRecord record)
    {
        int segmentBytes = _bytes;
        int offset = Index[index];
        if ((uint)offset > (uint)(segmentBytes - RecordLayout.HeaderLength) || (offset & (RecordLayout.Alignment - 1)) != 0)
        {
            record = default;
            return false;
        }

        byte* bytes = Data + offset;
        int length = *(int*)(bytes + RecordLayout.LengthOffset);
        if (length < RecordLayout.HeaderLength || length > segmentBytes - offset)
        {
            record = default;
            return false;
        }

        record = new LogRecord(sequence, *(int*)(bytes + RecordLayout.TypeIdOffset), new ReadOnlySpan<byte>(bytes + RecordLayout.HeaderLength, length - RecordLayout.HeaderLength));
        return true;
    }

    /// <summary>
    /// The length word of the record at <paramref name="offset"/> of the data: 0 while no record is committed there,
    /// else header + payload length. Acquire: pairs with the release of the length in <see cref="Commit"/>; the type
    /// id and payload are visible after it. The writer zeroes the word after each record before committing that record,
    /// and a fresh segment's first word before publishing it, so a reader that got here by reading the previous record
    /// (or a count) never sees a stale length from the slot's previous use.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadLength(int offset) => Atomic.ReadAcquire((int*)(Data + offset));

    /// <summary>The committed record at <paramref name="offset"/> whose length word said <paramref name="length"/> (checked by the caller).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public LogRecord RecordAt(int offset, int length, long sequence)
    {
        byte* bytes = Data + offset;
        return new LogRecord(sequence, *(int*)(bytes + RecordLayout.TypeIdOffset), new ReadOnlySpan<byte>(bytes + RecordLayout.HeaderLength, length - RecordLayout.HeaderLength));
    }

    /// <summary>Whether <paramref name="length"/>, read at <paramref name="offset"/>, describes a record inside the segment.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsRecordLength(int offset, int length) => length >= RecordLayout.HeaderLength && length <= _bytes - offset;

    /// <summary>Whether a record header fits at <paramref name="offset"/> (past it the segment holds no more records).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool HasRoomAt(int offset) => offset <= _bytes - RecordLayout.HeaderLength;

    /// <summary>
    /// Where record <paramref name="index"/> starts, for an index at or below a count read before: 0 for the first,
    /// else just after record <paramref name="index"/> - 1. -1 when the bytes do not add up (overwritten, or corrupt).
    /// </summary>
    public int OffsetOf(int index)
    {
        if (index == 0)
        {
            return 0;
        }

        return TryLocate(index - 1, out int offset, out int length) ? offset + RecordLayout.AlignedLength(length - RecordLayout.HeaderLength) : -1;
    }

    /// <summary>Where <paramref name="payload"/>, a span this segment handed out, starts in its data.</summary>
    public int PayloadOffsetOf(ReadOnlySpan<byte> payload)
        => (int)((byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(payload)) - Data);

    /// <summary>The payload bytes at <paramref name="offset"/> of the data (checked by the caller when it was leased).</summary>
    public ReadOnlySpan<byte> PayloadAt(int offset, int length) => new(Data + offset, length);

    /// <summary>The segment's data as one range of memory, for <see cref="Memory.MappedMemoryManager"/>.</summary>
    public byte* DataAddress => Data;

    /// <summary>Where the writer writes a record at <paramref name="offset"/> of the data.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* RecordAt(int offset) => Data + offset;

    /// <summary>
    /// Commits the record written at <paramref name="offset"/> as record number <paramref name="index"/>: type id,
    /// zeroed next length word, index entry, then the length (release: the commit) and the count (release: the
    /// publication). Returns the offset of the next record.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Commit(int index, int offset, int payloadLength, int typeId)
    {
        // Every address first, in locals: a store through a pointer makes the JIT load the fields behind Data again.
        byte* slot = _slot;
        byte* data = Data;
        int lastHeader = _bytes - RecordLayout.HeaderLength;
        byte* record = data + offset;
        int next = offset + RecordLayout.AlignedLength(payloadLength);
        *(int*)(record + RecordLayout.TypeIdOffset) = typeId;
        if (next <= lastHeader)
        {
            // Keeps "the word after the last committed record is 0" true for Recover.
            *(int*)(data + next) = 0;
        }

        ((int*)(slot + SegmentLayout.IndexOffset))[index] = offset;

        // Release: the commit of this record (payload, type id, index entry, next zero); read by Recover.
        Atomic.WriteRelease((int*)(record + RecordLayout.LengthOffset), RecordLayout.HeaderLength + payloadLength);

        // Release: publishes the record to readers; pairs with the acquire in ReadCount.
        Atomic.WriteRelease((int*)(slot + SegmentLayout.RecordCountOffset), index + 1);
        return next;
    }

    /// <summary>Marks the slot as being reused: generation -1 with a full fence, before anything in it is overwritten.</summary>
    public void MarkReusing()
    {
        // Full fence: readers validating the old generation see the change before any byte of the slot is overwritten.
        Atomic.Exchange(GenerationAddress, SegmentLayout.ReusingGeneration);
    }

    /// <summary>Initialises a slot marked as being reused: first sequence, no records, first length word 0.</summary>
    public void Initialise(long firstSequence)
    {
        *FirstSequenceAddress = firstSequence;
        *CountAddress = 0;
        *(int*)Data = 0;
    }

    /// <summary>Publishes the slot's new generation; pairs with <see cref="ReadGeneration"/> and <see cref="Holds"/>.</summary>
    public void PublishGeneration(long generation) => Atomic.WriteRelease(GenerationAddress, generation);

    /// <summary>
    /// What a dead writer left in the head segment: publishes every record whose length word was written (its commit)
    /// but whose count was not, zeroes the word after the last one, and returns the record count and the offset where
    /// the next record goes.
    /// </summary>
    public (int Count, int Offset) Recover(long generation)
    {
        int segmentBytes = _bytes;
        int count = ReadCount();
        int offset = 0;
        if (count > 0)
        {
            if (!TryLocate(count - 1, out int lastOffset, out int lastLength))
            {
                ThrowHelper.ThrowCorrupt(_log.FilePath, $"the last record of segment {generation} has an invalid offset or length");
            }

            offset = lastOffset + RecordLayout.AlignedLength(lastLength - RecordLayout.HeaderLength);
        }

        int recovered = count;
        while (recovered < _log.SegmentCapacity && offset <= segmentBytes - RecordLayout.HeaderLength)
        {
            int length = Atomic.ReadAcquire((int*)(Data + offset));
            if (length < RecordLayout.HeaderLength || length > segmentBytes - offset)
            {
                break;
            }

            Index[recovered++] = offset;
            offset += RecordLayout.AlignedLength(length - RecordLayout.HeaderLength);
        }

        if (offset <= segmentBytes - RecordLayout.HeaderLength)
        {
            *(int*)(Data + offset) = 0;
        }

        if (recovered != count)
        {
            // Release: publishes records the dead writer committed but did not count.
            Atomic.WriteRelease(CountAddress, recovered);
        }

        return (recovered, offset);
    }

    private bool TryLocate(int index, out int offset, out int length)
    {
        offset = Index[index];
        length = 0;
        if ((uint)offset > (uint)(_bytes - RecordLayout.HeaderLength) || (offset & (RecordLayout.Alignment - 1)) != 0)
        {
            return false;
        }

        length = *(int*)(Data + offset + RecordLayout.LengthOffset);
        return length >= RecordLayout.HeaderLength && length <= _bytes - offset;
    }
}
