using SharedLog.Files;
using SharedLog.Layout;

namespace SharedLog.Log;

/// <summary>
/// The segmented log's parameters: planned from <see cref="SegmentedLogOptions"/>, written into the header's kind
/// line, read back and checked by every open. One set of rules serves both (<see cref="ParameterCheck"/>), so a
/// crafted header is reported as a <see cref="SharedLogFormatException"/> naming the field.
/// </summary>
/// <param name="SegmentCapacity">Records per segment.</param>
/// <param name="SegmentBytes">Data bytes per segment.</param>
/// <param name="RetainedCapacity">The retention target (Window; recorded but without effect under Unbounded).</param>
/// <param name="SpareSegments">Slots beyond the window (Window; recorded but without effect under Unbounded).</param>
/// <param name="Retention">Window or Unbounded.</param>
/// <param name="MaxBytes">The growth limit of the file under Unbounded; 0 under Window.</param>
/// <param name="DataOffset">Where the segments start in the file (follows from MaxReaders; not a field of its own).</param>
internal readonly record struct LogParameters(
    int SegmentCapacity, int SegmentBytes, long RetainedCapacity, int SpareSegments, LogRetention Retention, long MaxBytes, long DataOffset)
    : IKindParameters<LogParameters>
{
    public const int MaxSpareSegments = 1024;

    public static int Kind => FileLayout.KindLog;

    public static string KindName => "segmented log";

    public bool IsUnbounded => Retention == LogRetention.Unbounded;

    /// <summary>Sealed segments kept visible: <c>ceil(RetainedCapacity / SegmentCapacity)</c>.</summary>
    public int RetainedSegments => (int)((RetainedCapacity + SegmentCapacity - 1) / SegmentCapacity);

    /// <summary>Segment slots the file is created with: the retained segments, the head and the spares (Window), or extent 0's one segment (Unbounded).</summary>
    public int SlotCount => IsUnbounded ? 1 : RetainedSegments + 1 + SpareSegments;

    /// <summary>Bytes from one segment slot to the next.</summary>
    public long SlotStride => SegmentLayout.Stride(SegmentCapacity, SegmentBytes);

    public long DataLength => SlotCount * SlotStride;

    public bool MayGrow => IsUnbounded;

    /// <summary>Under Unbounded, the most extents the file may have: the largest <c>n</c> with <c>DataOffset + (2^n - 1) x SlotStride &lt;= MaxBytes</c>; 0 under Window.</summary>
    public int MaxExtentCount
    {
        get
        {
            if (!IsUnbounded)
            {
                return 0;
            }

            int extents = 1;
            while (extents < LogLayout.MaxExtentCount && ExtentsLength(extents + 1) <= MaxBytes)
            {
                extents++;
            }

            return extents;
        }
    }

    /// <summary>Segments the file can ever hold at once: the slots (Window), or every segment of the most extents (Unbounded).</summary>
    public long SegmentLimit => IsUnbounded ? (1L << MaxExtentCount) - 1 : SlotCount;

    /// <summary>The file length <paramref name="extents"/> extents span: <c>DataOffset + (2^extents - 1) x SlotStride</c>.</summary>
    public long ExtentsLength(int extents) => DataOffset + (((1L << extents) - 1) * SlotStride);

    /// <summary>The parameters options describe; throws <see cref="ArgumentOutOfRangeException"/> naming the option out of range.</summary>
    public static LogParameters Plan(SegmentedLogOptions options)
    {
        long segmentBytes = options.SegmentBytes == 0 ? (long)options.SegmentCapacity * 128 : options.SegmentBytes;
        long dataOffset = FileHeader.DataOffsetFor(Math.Clamp(options.MaxReaders, 1, FileLayout.MaxReadersLimit));
        return Check(ParameterCheck.ForOptions, options.SegmentCapacity, segmentBytes, options.RetainedCapacity, options.SpareSegments,
            (long)options.Retention, options.MaxBytes, dataOffset);
    }

    /// <summary>Reads the kind's fields from a header whose common fields (MaxReaders, DataOffset) are checked.</summary>
    public static unsafe LogParameters Read(byte* header, ParameterCheck check)
    {
        var parameters = Check(
            check,
            *(int*)(header + LogLayout.SegmentCapacityOffset),
            *(int*)(header + LogLayout.SegmentBytesOffset),
            *(long*)(header + LogLayout.RetainedCapacityOffset),
            *(int*)(header + LogLayout.SpareSegmentsOffset),
            *(int*)(header + LogLayout.RetentionOffset),
            *(long*)(header + LogLayout.MaxBytesOffset),
            *(long*)(header + FileLayout.DataOffsetOffset));
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
        *(int*)(header + LogLayout.RetentionOffset) = (int)Retention;
        *(long*)(header + LogLayout.MaxBytesOffset) = MaxBytes;
    }

    /// <summary>Generation 0 in slot 0, every other slot free (generation -1), head and oldest at 0; one extent under Unbounded.</summary>
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
        *(long*)(file + LogLayout.ExtentCountOffset) = IsUnbounded ? 1 : 0;
    }

    /// <summary>The rules, in order; the upper bounds come first so later arithmetic cannot overflow on hostile values.</summary>
    private static LogParameters Check(
        ParameterCheck check, long segmentCapacity, long segmentBytes, long retainedCapacity, long spareSegments, long retention, long maxBytes, long dataOffset)
    {
        check.InRange(segmentCapacity, 1, LogLayout.MaxSegmentCapacity, "SegmentCapacity");
        check.Require(segmentBytes >= 16 && segmentBytes <= LogLayout.MaxSegmentBytes && segmentBytes % RecordLayout.Alignment == 0,
            "SegmentBytes", segmentBytes, $"a multiple of {RecordLayout.Alignment} from 16 to {LogLayout.MaxSegmentBytes}");
        check.InRange(retainedCapacity, 1, (long)LogLayout.MaxSlotCount * segmentCapacity, "RetainedCapacity");
        check.InRange(spareSegments, 0, MaxSpareSegments, "SpareSegments");
        check.Require(retention is (long)LogRetention.Window or (long)LogRetention.Unbounded, "Retention", retention, "Window (0) or Unbounded (1)");
        var parameters = new LogParameters((int)segmentCapacity, (int)segmentBytes, retainedCapacity, (int)spareSegments, (LogRetention)retention, maxBytes, dataOffset);
        if (parameters.IsUnbounded)
        {
            long initial = dataOffset + parameters.SlotStride;
            check.Require(maxBytes >= initial && maxBytes <= FileLayout.MaxFileLength, "MaxBytes", maxBytes,
                $"set under Unbounded retention (it is the growth limit of the file): from {initial} (the header and one segment) to {FileLayout.MaxFileLength}");
        }
        else
        {
            check.Require(maxBytes == 0, "MaxBytes", maxBytes, "0 under Window retention (it is the growth limit under Unbounded)");
            check.Require(parameters.SlotCount <= LogLayout.MaxSlotCount, "RetainedCapacity", retainedCapacity,
                $"at most {(long)(LogLayout.MaxSlotCount - 1 - spareSegments) * segmentCapacity} (SegmentCapacity x {LogLayout.MaxSlotCount} segment slots, less the head and spares); raise SegmentCapacity");
        }

        return parameters;
    }
}
