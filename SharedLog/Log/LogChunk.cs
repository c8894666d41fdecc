using SharedLog.Log;

namespace SharedLog;

/// <summary>One segment of a <see cref="LogSnapshot"/>: <c>foreach</c> over it yields its records.</summary>
public readonly ref struct LogChunk
{
    private readonly LogView _view;

    internal LogChunk(LogView view, long segmentSequence, long firstSequence, int count)
    {
        _view = view;
        SegmentSequence = segmentSequence;
        FirstSequence = firstSequence;
        Count = count;
    }

    /// <summary>The segment's generation: its sequence number among segments, starting at 0.</summary>
    public long SegmentSequence { get; }

    /// <summary>The sequence number of the segment's first record.</summary>
    public long FirstSequence { get; }

    /// <summary>Records in the segment (as the snapshot sees it).</summary>
    public int Count { get; }

    /// <summary>Iterates the segment's records.</summary>
    public LogSnapshot.Enumerator GetEnumerator() => new(_view, SegmentSequence, SegmentSequence, FirstSequence);
}
