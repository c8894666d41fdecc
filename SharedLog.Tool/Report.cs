using System.Text.Json.Serialization;

namespace SharedLog.Tool;

/// <summary>
/// What <c>inspect</c> shows, read from the public API at one instant; the same document is rendered as tables and
/// serialised as JSON. Ranges are half-open: <c>[first, next)</c>.
/// </summary>
/// <param name="Name">The file name (the structure's name).</param>
/// <param name="Path">The file's path.</param>
/// <param name="Kind">"log" or "ring".</param>
/// <param name="FileLength">The file's length in bytes.</param>
/// <param name="Time">When it was read.</param>
/// <param name="Writer">The writer lease.</param>
/// <param name="Log">The log's options and window (logs only).</param>
/// <param name="Ring">The ring's options and positions (rings only).</param>
/// <param name="Readers">The occupied reader slots.</param>
/// <param name="Rates">Per-second rates since the previous report (with <c>--watch</c>).</param>
internal sealed record FileReport(
    string Name,
    string Path,
    string Kind,
    long FileLength,
    DateTimeOffset Time,
    WriterReport Writer,
    LogReport? Log,
    RingReport? Ring,
    IReadOnlyList<ReaderReport> Readers,
    RatesReport? Rates);

/// <summary>The writer lease: the owner's pid (0 for none) and whether it lives.</summary>
internal sealed record WriterReport(int Pid, bool Alive);

/// <summary>
/// A log's options and retained window. The window holds sequences <c>[FirstSequence, NextSequence)</c>;
/// <paramref name="Completed"/> says the writer ended the log there.
/// </summary>
internal sealed record LogReport(
    int SegmentCapacity,
    int SegmentBytes,
    long RetainedCapacity,
    int SlotCount,
    int MaxReaders,
    string SlowReaderPolicy,
    double SlowReaderTimeoutSeconds,
    long FirstSequence,
    long NextSequence,
    long RecordCount,
    long OldestGeneration,
    long HeadGeneration,
    bool Completed,
    IReadOnlyList<SegmentReport> Segments,
    string Retention = "Window",
    long ExtentCount = 0,
    long MaxBytes = 0);

/// <summary>
/// One retained segment: its generation, the slot holding it (generation mod slot count; under unbounded retention
/// segments never share a slot, so it is the generation), its records
/// <c>[FirstSequence, FirstSequence + Count)</c>, and whether the writer is filling it.
/// </summary>
internal sealed record SegmentReport(long Generation, long Slot, long FirstSequence, int Count, bool IsHead);

/// <summary>A ring's options and positions. Intact bytes are <c>[OldestPosition, WriterPosition)</c>.</summary>
internal sealed record RingReport(
    int Capacity,
    int MaxReaders,
    string SlowReaderPolicy,
    double SlowReaderTimeoutSeconds,
    long WriterPosition,
    long OldestPosition,
    bool Completed);

/// <summary>
/// One occupied reader slot. <paramref name="Pin"/> is the oldest generation (log) or byte position (ring) it may
/// still read. <paramref name="Position"/> is where it reads: a log reader's next sequence (published every 64
/// records, at each segment and when it catches up or waits), a snapshot's first sequence, a ring reader's byte
/// position; <paramref name="Lag"/> is how far that is behind the writer, in records (log) or bytes (ring).
/// </summary>
internal sealed record ReaderReport(
    int Slot,
    int Pid,
    bool Alive,
    string Kind,
    string State,
    long Pin,
    long Position,
    long Lag,
    long LostCount,
    double? LostPerSecond);

/// <summary>Rates since the previous report: records (log) or bytes (ring) appended per second.</summary>
internal sealed record RatesReport(double IntervalSeconds, double AppendedPerSecond, string Unit);

/// <summary>One row of <c>list</c>.</summary>
internal sealed record ListEntry(string Name, string Kind, long FileLength, int WriterPid, bool WriterAlive, int? Readers, int? DeadReaders, string? Error);

/// <summary>Source-generated JSON for the tool's documents (camelCase, nulls kept so fields are stable).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(FileReport))]
[JsonSerializable(typeof(IReadOnlyList<ListEntry>))]
internal sealed partial class ToolJsonContext : JsonSerializerContext;
