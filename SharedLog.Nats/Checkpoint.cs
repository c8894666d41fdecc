using System.Buffers.Binary;

namespace SharedLog.Nats;

/// <summary>
/// The record <see cref="BridgeIn"/> appends before each batch: the stream sequences of the batch's messages, in the
/// order their records follow, and the stream sequence of the last message appended before it.
/// </summary>
/// <remarks><code>
///   0                   1                   2                   3
///   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///  +---------------------------------------------------------------+
///  |                     Magic "SLNATSIN" (8 bytes)                |  0
///  +---------------------------------------------------------------+
///  |         Previous Last: stream sequence appended before (8)    |  8
///  +---------------------------------------------------------------+
///  |                     Count                                     |  16
///  +---------------------------------------------------------------+
///  |                     Reserved (0)                              |  20
///  +---------------------------------------------------------------+
///  |         Stream Sequence of record i (8 bytes each) ...        |  24
///  +---------------------------------------------------------------+
/// </code>
/// Written by the bridge as the log's only writer, little-endian, with type id <see cref="BridgeIn.CheckpointTypeId"/>.
/// </remarks>
internal static class Checkpoint
{
    public const ulong Magic = 0x4E495354414E4C53; // "SLNATSIN" little-endian
    public const int MagicOffset = 0;
    public const int PreviousLastOffset = 8;
    public const int CountOffset = 16;
    public const int SequencesOffset = 24;
    public const int SequenceLength = 8;

    public static int Length(int count) => SequencesOffset + (count * SequenceLength);

    /// <summary>How many sequences fit in a record of at most <paramref name="maxPayloadLength"/> bytes.</summary>
    public static int MaxCount(int maxPayloadLength) => (maxPayloadLength - SequencesOffset) / SequenceLength;

    public static void Write(Span<byte> destination, ulong previousLast, ReadOnlySpan<ulong> sequences)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination[MagicOffset..], Magic);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[PreviousLastOffset..], previousLast);
        BinaryPrimitives.WriteInt32LittleEndian(destination[CountOffset..], sequences.Length);
        BinaryPrimitives.WriteInt32LittleEndian(destination[(CountOffset + 4)..], 0);
        for (int i = 0; i < sequences.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination[(SequencesOffset + (i * SequenceLength))..], sequences[i]);
        }
    }

    /// <summary>
    /// The stream sequence of the last message whose record is in <paramref name="log"/>, from its last checkpoint and
    /// the number of records after it; null when the retained window holds no checkpoint.
    /// </summary>
    public static ulong? FindLastAppended(SegmentedLog log)
    {
        using var snapshot = log.Snapshot();
        long last = snapshot.NextSequence - 1;
        for (long sequence = last; sequence >= snapshot.FirstSequence; sequence--)
        {
            if (!snapshot.TryGet(sequence, out LogRecord record) || record.TypeId != BridgeIn.CheckpointTypeId)
            {
                continue;
            }

            ReadOnlySpan<byte> payload = record.Payload;
            if (payload.Length < SequencesOffset || BinaryPrimitives.ReadUInt64LittleEndian(payload) != Magic)
            {
                continue;
            }

            ulong previousLast = BinaryPrimitives.ReadUInt64LittleEndian(payload[PreviousLastOffset..]);
            int count = BinaryPrimitives.ReadInt32LittleEndian(payload[CountOffset..]);
            if (count < 0 || payload.Length < Length(count))
            {
                continue;
            }

            // The records after the checkpoint are the first 'after' messages it lists (a crash may have cut the batch).
            long after = Math.Min(last - sequence, count);
            return after == 0
                ? previousLast
                : BinaryPrimitives.ReadUInt64LittleEndian(payload[(SequencesOffset + ((int)(after - 1) * SequenceLength))..]);
        }

        return null;
    }
}
