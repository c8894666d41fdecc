using SharedLog.Files;
using SharedLog.Layout;

namespace SharedLog.Log;

/// <summary>
/// The segmented log's parameters: planned from <see cref="SegmentedLogOptions"/>, written into the header's kind
/// line, read back and checked by every open. One set of rules serves both (<see cref="ParameterCheck"/>), so a
/// crafted header is reported as a <see cref="SharedLogFormatException"/> naming the field.
/// </summary>
internal readonly record struct LogParameters(int SegmentCapacity, int SegmentBytes, long RetainedCapacity, int SpareSegments)
    : IKindParameters<LogParameters>
{
    public const int MaxSpareSegments = 1024;

    public static int Kind => FileLayout.KindLog;

    public static string KindName => "segmented log";

    /// <summary>Sealed segments kept visible: <c>ceil(RetainedCapacity / SegmentCapacity)</c>.</summary>
    public int RetainedSegments => (int)((RetainedCapacity + SegmentCapacity - 1) / SegmentCapacity);

    /// <summary>Segment slots: the retained segments, the head and the spares.</summary>
    public int SlotCount => RetainedSegments + 1 + SpareSegments;

    /// <summary>Bytes from one segment slot to the next.</summary>
    public long SlotStride => SegmentLayout.Stride(SegmentCapacity, SegmentBytes);

    public long DataLength => SlotCount * SlotStride;

    /// <summary>The parameters options describe; throws <see cref="ArgumentOutOfRangeException"/> naming the option out of range.</summary>
    public static LogParameters Plan(SegmentedLogOptions options)
    {
        long segmentBytes = options.SegmentBytes == 0 ? (long)options.SegmentCapacity * 128 : options.SegmentBytes;
        return Check(ParameterCheck.ForOptions, options.SegmentCapacity, segmentBytes, options.RetainedCapacity, options.SpareSegments);
    }

    public static unsafe LogParameters Read(byte* header, ParameterCheck check)
    {
        var parameters = Check(
            check,
            *(int*)(header + LogLayout.SegmentCapacityOffset),
            *(int*)(header + LogLayout.SegmentBytesOffset),
            *(long*)(header + LogLayout.RetainedCapacityOffset),
            *(int*)(header + LogLayout.SpareSegmentsOffset));
        int slotCount = *(int*)(header + LogLayout.SlotCountOffset);
        check.Require(slotCount == parameters.SlotCount, "SlotCount", slotCount, $"{parameters.SlotCount} for its other parameters");
        long stride = *(long*)(header + LogLayout.SlotStrideOffset);
        check.Require(stride == parameters.SlotStride, "SlotStride", stride, $"{parameters.SlotStride} for its other parameters");
        int retained = *(int*)(header + LogLayout.RetainedSegmentsOffset);
        check.Require(retained == parameters.RetainedSegments, "RetainedSegments", retained, $"{parameters.RetainedSegments} for its other parameters");
        return parameters;
    }

    public unsafe void Write(byte* header)
    {
        *(int*)(header + LogLayout.SegmentCapacityOffset) = SegmentCapacity;
        *(int*)(header + LogLayout.SegmentBytesOffset) = SegmentBytes;
        *(int*)(header + LogLayout.SlotCountOffset) = SlotCount;
        *(int*)(header + LogLayout.SpareSegmentsOffset) = SpareSegments;
        *(long*)(header + LogLayout.RetainedCapacityOffset) = RetainedCapacity;
        *(long*)(header + LogLayout.SlotStrideOffset) = SlotStride;
        *(int*)(header + LogLayout.RetainedSegmentsOffset) = RetainedSegments;
    }

    /// <summary>Generation 0 in slot 0, every other slot free (generation -1), head and oldest at 0.</summary>
    public unsafe void Initialise(byte* file, in FileHeader header)
    {
        for (int s = 0; s < SlotCount; s++)
        {
            byte* slot = file + header.DataOffset + ((long)s * SlotStride);
            *(long*)(slot + SegmentLayout.GenerationOffset) = s == 0 ? 0 : SegmentLayout.ReusingGeneration;
            *(long*)(slot + SegmentLayout.FirstSequenceOffset) = 0;
            *(int*)(slot + SegmentLayout.RecordCountOffset) = 0;
        }

        *(long*)(file + LogLayout.HeadGenerationOffset) = 0;
        *(long*)(file + LogLayout.OldestGenerationOffset) = 0;
    }

    /// <summary>The rules, in order; the upper bounds come first so later arithmetic cannot overflow on hostile values.</summary>
    private static LogParameters Check(ParameterCheck check, long segmentCapacity, long segmentBytes, long retainedCapacity, long spareSegments)
    {
        check.InRange(segmentCapacity, 1, LogLayout.MaxSegmentCapacity, "SegmentCapacity");
        check.Require(segmentBytes >= 16 && segmentBytes <= LogLayout.MaxSegmentBytes && segmentBytes % RecordLayout.Alignment == 0,
            "SegmentBytes", segmentBytes, $"a multiple of {RecordLayout.Alignment} from 16 to {LogLayout.MaxSegmentBytes}");
        check.InRange(retainedCapacity, 1, (long)LogLayout.MaxSlotCount * segmentCapacity, "RetainedCapacity");
        check.InRange(spareSegments, 0, MaxSpareSegments, "SpareSegments");
        var parameters = new LogParameters((int)segmentCapacity, (int)segmentBytes, retainedCapacity, (int)spareSegments);
        check.Require(parameters.SlotCount <= LogLayout.MaxSlotCount, "RetainedCapacity", retainedCapacity,
            $"at most {(long)(LogLayout.MaxSlotCount - 1 - spareSegments) * segmentCapacity} (SegmentCapacity x {LogLayout.MaxSlotCount} segment slots, less the head and spares); raise SegmentCapacity");
        return parameters;
    }
}
