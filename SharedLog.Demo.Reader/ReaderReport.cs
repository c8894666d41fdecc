using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharedLog.Demo.Reader;

/// <summary>
/// One line a reader prints for the demo's writer to read: a JSON object per line. <see cref="Kind"/> says which
/// fields are set: <c>ready</c> (attached, <see cref="From"/>), <c>stats</c> (once a second: totals, the last second's
/// rate and latency percentiles), <c>window</c> (the sidecar's snapshot summary), <c>final</c> (totals, whole-run
/// percentiles, <see cref="Expected"/> and <see cref="Exact"/>), <c>error</c> (<see cref="Reason"/>).
/// Sequence ranges are half-open: <c>[First, Next)</c>.
/// </summary>
public sealed record ReaderReport
{
    /// <summary>ready, stats, window, final or error.</summary>
    public required string Kind { get; init; }

    /// <summary>The reader's role: fast, slow, sidecar, ...</summary>
    public required string Role { get; init; }

    /// <summary>The reader's pid.</summary>
    public int Pid { get; init; }

    /// <summary>Seconds since the reader started.</summary>
    public double T { get; init; }

    /// <summary>The first sequence it reads (ready).</summary>
    public long? From { get; init; }

    /// <summary>Ticks received intact so far.</summary>
    public long? Received { get; init; }

    /// <summary>Ticks lost so far (overwritten before or while being read).</summary>
    public long? Lost { get; init; }

    /// <summary>Records written but not yet read.</summary>
    public long? Lag { get; init; }

    /// <summary>Ticks received per second over the last report interval.</summary>
    public long? Rate { get; init; }

    /// <summary>Latency percentiles and maximum, in nanoseconds (last second for stats, whole run for final).</summary>
    public Latencies? Latency { get; init; }

    /// <summary>Records written while it was attached (final).</summary>
    public long? Expected { get; init; }

    /// <summary>Whether received + lost = expected (final).</summary>
    public bool? Exact { get; init; }

    /// <summary>The sidecar's summary of the window it found on attaching.</summary>
    public WindowSummary? Window { get; init; }

    /// <summary>Why it gave up (error).</summary>
    public string? Reason { get; init; }

    /// <summary>This report as one line of JSON.</summary>
    public string ToJsonLine() => JsonSerializer.Serialize(this, DemoJsonContext.Default.ReaderReport);

    /// <summary>Parses a line; null when it is not a report (a stray line, a half-written one).</summary>
    public static ReaderReport? Parse(string line)
    {
        if (!line.StartsWith('{'))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(line, DemoJsonContext.Default.ReaderReport);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>Latency percentiles and maximum, in nanoseconds.</summary>
public sealed record Latencies(long P50, long P90, long P99, long P999, long Max);

/// <summary>What the sidecar found on attaching: records <c>[First, Next)</c> in a snapshot of that many segments.</summary>
public sealed record WindowSummary(long Records, long First, long Next, int Segments, int Attempts, int BusiestSymbol, double Vwap);

/// <summary>Source-generated JSON for the reports (camelCase, nulls left out).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ReaderReport))]
public sealed partial class DemoJsonContext : JsonSerializerContext;
