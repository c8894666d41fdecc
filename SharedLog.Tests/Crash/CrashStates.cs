using SharedLog.Layout;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Crash;

/// <summary>
/// Builds, store by store, the state a writer killed at a given step leaves in the file: the same stores, in the same
/// order, as <c>LogWriter.Roll</c> and <c>LogWriter.Publish</c> make.
/// </summary>
public static class CrashStates
{
    /// <summary>Roll's stores, in the order LogWriter.Roll makes them; a crash after each leaves a distinct state.</summary>
    public enum RollStep
    {
        OldestRaised,
        SlotMarkedReusing,
        SlotInitialised,
        SlotGenerationPublished,
        HeadPublished,
    }

    /// <summary>How far an append got before the writer died.</summary>
    public enum AppendStep
    {
        PayloadWritten,
        IndexEntryWritten,
        LengthCommitted,
    }

    /// <summary>Makes the stores LogWriter.Roll makes, in its order, up to <paramref name="step"/>.</summary>
    public static void ReplayRollUpTo(SegmentedLog log, FileFields fields, RollStep step, long nextSequence)
    {
        long generation = fields.Head + 1;
        long oldest = Math.Max(0, generation - log.File.RetainedSegments);
        long slot = fields.SlotOffset(generation);
        if (oldest > fields.Oldest)
        {
            fields.Oldest = oldest;
        }

        if (step >= RollStep.SlotMarkedReusing)
        {
            fields.Write(slot + SegmentLayout.GenerationOffset, SegmentLayout.ReusingGeneration);
        }

        if (step >= RollStep.SlotInitialised)
        {
            fields.Write(slot + SegmentLayout.FirstSequenceOffset, nextSequence);
            fields.Write(slot + SegmentLayout.RecordCountOffset, 0);
            fields.Write(fields.DataAt(generation, 0), 0);
        }

        if (step >= RollStep.SlotGenerationPublished)
        {
            fields.Write(slot + SegmentLayout.GenerationOffset, generation);
        }

        if (step >= RollStep.HeadPublished)
        {
            fields.Head = generation;
        }
    }

    /// <summary>Makes the stores LogWriter.Publish makes for the next record, in its order, up to <paramref name="step"/>.</summary>
    public static void ReplayAppendUpTo(FileFields fields, AppendStep step, long sequence)
    {
        long head = fields.Head;
        int count = fields.CountAt(head);
        int last = fields.IndexEntry(head, count - 1);
        int offset = last + RecordLayout.AlignedLength(fields.ReadInt32(fields.DataAt(head, last)) - RecordLayout.HeaderLength);
        Assert.Equal(0, fields.ReadInt32(fields.DataAt(head, offset)));

        var payload = new byte[CheckedRecords.MaxPayload];
        int length = Payloads.Fill(payload, sequence, 16, CheckedRecords.MaxPayload);
        fields.Write(fields.DataAt(head, offset) + RecordLayout.HeaderLength, payload.AsSpan(0, length));
        fields.Write(fields.DataAt(head, offset) + RecordLayout.TypeIdOffset, CheckedRecords.TypeIdOf(sequence));
        int next = offset + RecordLayout.AlignedLength(length);
        fields.Write(fields.DataAt(head, next), 0);
        if (step >= AppendStep.IndexEntryWritten)
        {
            fields.Write(fields.SlotOffset(head) + SegmentLayout.IndexOffset + ((long)count * SegmentLayout.IndexEntryLength), offset);
        }

        if (step >= AppendStep.LengthCommitted)
        {
            fields.Write(fields.DataAt(head, offset), RecordLayout.HeaderLength + length);
        }
    }
}
