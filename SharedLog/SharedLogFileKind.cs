namespace SharedLog;

/// <summary>What a SharedLog file holds, as its header says.</summary>
public enum SharedLogFileKind
{
    /// <summary>A <see cref="SegmentedLog"/>.</summary>
    Log = 1,

    /// <summary>A <see cref="ByteRing"/>.</summary>
    Ring = 2,
}
