namespace SharedLog;

/// <summary>What a <see cref="SegmentedLog"/> keeps.</summary>
public enum LogRetention
{
    /// <summary>
    /// A rolling window of whole segments (<see cref="SegmentedLogOptions.RetainedCapacity"/>) in a file of fixed size;
    /// older segments are retired and their slots reused once no live reader pins them.
    /// </summary>
    Window,

    /// <summary>
    /// Every record is kept. The file grows by whole segments, in extents each twice the size of the one before, up to
    /// <see cref="SegmentedLogOptions.MaxBytes"/>; records never move, and spans already handed out stay valid.
    /// </summary>
    Unbounded,
}
