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
/// <param name="Readers">The occupied reader slots; null when the public API cannot tell (rings).</param>
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
    IReadOnlyList<ReaderReport>? Readers,
    RatesReport? Rates);

/// <summary>The writer lease: the owner's pid (0 for none) and whether it lives.</summary>
internal sealed record WriterReport(int Pid, bool Alive);

/// <summary>A log's options and retained window. The window holds sequences <c>[FirstSequence, NextSequence)</c>.</summary>
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
    IReadOnlyList<SegmentReport> Segments);

/// <summary>One retained segment: its generation, the slot holding it, and whether the writer is filling it.</summary>
internal sealed record SegmentReport(long Generation, int Slot, bool IsHead);

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
/// still read; <paramref name="Behind"/> is how far that is behind the head (segments) or the writer (bytes).
/// <paramref name="NextPosition"/> is null while the public API does not expose it.
/// </summary>
internal sealed record ReaderReport(
    int Slot,
    int Pid,
    bool Alive,
    string Kind,
    string State,
    long Pin,
    long Behind,
    long? NextPosition,
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
