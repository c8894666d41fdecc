using System.Diagnostics;
using System.Globalization;

namespace SharedLog.Demo.Reader;

/// <summary>
/// What one reader received, and how late: latencies are measured from the timestamp the writer put in each tick
/// (the clock is system-wide, so the two processes agree). Printed once a second as a <c>key=value</c> line that
/// people can read and the demo's dashboard parses.
/// </summary>
public sealed class ReaderStats(string role)
{
    private static readonly double s_nanosecondsPerTick = 1e9 / Stopwatch.Frequency;
    private readonly LatencyHistogram _interval = new();
    private readonly LatencyHistogram _total = new();
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _lastReport = Stopwatch.GetTimestamp();
    private long _receivedAtLastReport;

    /// <summary>Ticks received intact.</summary>
    public long Received { get; private set; }

    /// <summary>Seconds since this reader started.</summary>
    public double Elapsed => Stopwatch.GetElapsedTime(_started).TotalSeconds;

    /// <summary>Counts a tick and its latency.</summary>
    public void Record(in Tick tick)
    {
        long nanoseconds = (long)((Stopwatch.GetTimestamp() - tick.Timestamp) * s_nanosecondsPerTick);
        _interval.Record(nanoseconds);
        _total.Record(nanoseconds);
        Received++;
    }

    /// <summary>Prints a <c>stats</c> line if a second has passed since the last one.</summary>
    /// <param name="log">The log, for the writer's position (lag = records written but not yet read).</param>
    /// <param name="reader">The reader whose position and losses to report.</param>
    public void ReportIfDue(SegmentedLog log, LogReader reader)
    {
        long now = Stopwatch.GetTimestamp();
        double seconds = (now - _lastReport) / (double)Stopwatch.Frequency;
        if (seconds < 1)
        {
            return;
        }

        long lag = Math.Max(0, log.GetStatus().NextSequence - reader.NextSequence);
        long rate = (long)((Received - _receivedAtLastReport) / seconds);
        Print("stats", $"t={Elapsed:0.0} received={Received} lost={reader.LostCount} lag={lag} rate={rate} {Latencies(_interval)}");
        _interval.Clear();
        _receivedAtLastReport = Received;
        _lastReport = now;
    }

    /// <summary>
    /// Prints the <c>final</c> line: totals, whole-run latencies, and whether received + lost equals
    /// <paramref name="expected"/> (the records written while this reader was attached). Returns that check.
    /// </summary>
    public bool ReportFinal(long lost, long expected)
    {
        bool exact = Received + lost == expected;
        Print("final", $"t={Elapsed:0.0} received={Received} lost={lost} expected={expected} exact={(exact ? "yes" : "no")} {Latencies(_total)}");
        return exact;
    }

    /// <summary>Prints <c>KIND role=ROLE FIELDS</c>.</summary>
    public void Print(string kind, string fields) => Console.WriteLine($"{kind} role={role} {fields}");

    private static string Latencies(LatencyHistogram h) => string.Create(CultureInfo.InvariantCulture,
        $"p50_ns={h.Percentile(50)} p90_ns={h.Percentile(90)} p99_ns={h.Percentile(99)} p999_ns={h.Percentile(99.9)} max_ns={h.Max}");
}
