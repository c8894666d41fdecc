namespace SharedLog;

/// <summary>A point-in-time description of a log file, for inspection tools and monitoring.</summary>
/// <param name="HeadGeneration">The generation of the segment being written.</param>
/// <param name="OldestGeneration">The oldest generation in the visible window.</param>
/// <param name="FirstSequence">The sequence number of the oldest visible record.</param>
/// <param name="NextSequence">The sequence number the next append gets.</param>
/// <param name="WriterProcessId">The pid holding the writer lease, or 0.</param>
/// <param name="WriterAlive">Whether the lease holder is alive (false when there is none).</param>
/// <param name="Readers">The occupied reader slots.</param>
public sealed record LogStatus(
    long HeadGeneration,
    long OldestGeneration,
    long FirstSequence,
    long NextSequence,
    int WriterProcessId,
    bool WriterAlive,
    IReadOnlyList<ReaderStatus> Readers);

/// <summary>One occupied reader slot.</summary>
/// <param name="Slot">The slot index in the reader table.</param>
/// <param name="ProcessId">The owner's pid.</param>
/// <param name="IsSnapshot">True for a snapshot, false for a tailing reader.</param>
/// <param name="IsEvicted">True when the writer evicted it and it has not re-armed yet.</param>
/// <param name="Pin">The oldest generation (log) or position (ring) it pins.</param>
/// <param name="LostCount">Records (log) or bytes (ring) it has lost so far.</param>
/// <param name="IsAlive">False when the OS says the owner is dead (its slot is reaped when space is needed).</param>
public sealed record ReaderStatus(int Slot, int ProcessId, bool IsSnapshot, bool IsEvicted, long Pin, long LostCount, bool IsAlive);
