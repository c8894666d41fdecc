namespace SharedLog;

/// <summary>A point-in-time description of a ring file, for inspection tools and monitoring.</summary>
/// <param name="Capacity">Data bytes in the ring.</param>
/// <param name="WriterPosition">The end of the published bytes.</param>
/// <param name="OldestPosition">The oldest byte still intact.</param>
/// <param name="IsCompleted">Whether the writer completed the stream.</param>
/// <param name="WriterProcessId">The pid holding the writer lease, or 0.</param>
/// <param name="WriterAlive">Whether the lease holder is alive (false when there is none).</param>
/// <param name="Readers">The occupied reader slots; a reader's <see cref="ReaderStatus.Pin"/> is its position.</param>
public sealed record RingStatus(
    int Capacity,
    long WriterPosition,
    long OldestPosition,
    bool IsCompleted,
    int WriterProcessId,
    bool WriterAlive,
    IReadOnlyList<ReaderStatus> Readers);
