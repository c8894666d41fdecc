namespace SharedLog;

/// <summary>A point-in-time description of a log file, for inspection tools and monitoring.</summary>
/// <param name="HeadGeneration">The generation of the segment being written.</param>
/// <param name="OldestGeneration">The oldest generation in the visible window.</param>
/// <param name="FirstSequence">The sequence number of the oldest visible record.</param>
/// <param name="NextSequence">The sequence number the next append gets.</param>
/// <param name="WriterProcessId">The pid holding the writer lease, or 0.</param>
/// <param name="WriterAlive">Whether the lease holder is alive (false when there is none).</param>
/// <param name="Readers">The occupied reader slots, read before the window, so no reader is ahead of <paramref name="NextSequence"/>.</param>
/// <param name="IsCompleted">Whether the writer completed the log.</param>
/// <param name="Segments">The retained segments, oldest first (the head last).</param>
public sealed record LogStatus(
    long HeadGeneration,
    long OldestGeneration,
    long FirstSequence,
    long NextSequence,
    int WriterProcessId,
    bool WriterAlive,
    IReadOnlyList<ReaderStatus> Readers,
    bool IsCompleted,
    IReadOnlyList<SegmentStatus> Segments)
{
    /// <summary>What the log keeps: a rolling window, or every record in a growing file.</summary>
    public LogRetention Retention { get; init; }

    /// <summary>Under <see cref="LogRetention.Unbounded"/>, the extents the file has grown to (extent <c>e</c> holds <c>2^e</c> segments); 0 under Window.</summary>
    public int ExtentCount { get; init; }

    /// <summary>Under <see cref="LogRetention.Unbounded"/>, how many of those extents this process has mapped so far (each is mapped when first read).</summary>
    public int MappedExtentCount { get; init; }

    /// <summary>The bytes of the file the log uses: its whole (fixed) length under Window, the header and every extent under Unbounded.</summary>
    public long FileBytes { get; init; }

    /// <summary>The growth limit under <see cref="LogRetention.Unbounded"/>; 0 under Window.</summary>
    public long MaxBytes { get; init; }
}

/// <summary>One retained segment of a log.</summary>
/// <param name="Generation">The segment's number (its <see cref="LogChunk.SegmentSequence"/>).</param>
/// <param name="FirstSequence">The sequence number of its first record.</param>
/// <param name="Count">Records in it.</param>
/// <param name="IsHead">True for the segment being written.</param>
public sealed record SegmentStatus(long Generation, long FirstSequence, int Count, bool IsHead);

/// <summary>One occupied reader slot.</summary>
/// <param name="Slot">The slot index in the reader table.</param>
/// <param name="ProcessId">The owner's pid.</param>
/// <param name="IsSnapshot">True for a snapshot, false for a tailing reader.</param>
/// <param name="IsEvicted">True when the writer evicted it and it has not re-armed yet.</param>
/// <param name="Pin">The oldest generation (log) or position (ring) it pins.</param>
/// <param name="LostCount">Records (log) or bytes (ring) it has lost so far.</param>
/// <param name="IsAlive">False when the OS says the owner is dead (its slot is reaped when space is needed).</param>
/// <param name="Position">
/// Where it reads: the next sequence of a log reader (published every 64 records, at each segment and when it catches
/// up or waits), the first sequence of a snapshot, the byte position of a ring reader.
/// </param>
/// <param name="Lag">How far <paramref name="Position"/> is behind the writer: records (log) or bytes (ring).</param>
/// <param name="IsLease">True for the slot that pins a segment for record leases (<see cref="RecordLease"/>).</param>
public sealed record ReaderStatus(int Slot, int ProcessId, bool IsSnapshot, bool IsEvicted, long Pin, long LostCount, bool IsAlive, long Position, long Lag, bool IsLease = false);
