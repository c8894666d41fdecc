using System.Diagnostics;
using HdrHistogram;

namespace SharedLog.Demo.Reader;

/// <summary>
/// What one reader received, and how late: latencies are measured from the timestamp the writer put in each tick
/// (the clock is system-wide, so the two processes agree) into HDR histograms. Reported as JSON lines
/// (<see cref="ReaderReport"/>) that people can read and the demo's writer parses.
/// </summary>
public sealed class ReaderStats(string role)
{
    // 1 ns to 100 s at 3 significant digits: any latency the demo can see, to 0.1 %.
    private const long HighestLatency = 100_000_000_000;
    private static readonly double s_nanosecondsPerTick = 1e9 / Stopwatch.Frequency;
    private readonly LongHistogram _interval = new(HighestLatency, 3);
    private readonly LongHistogram _total = new(HighestLatency, 3);
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
        long nanoseconds = Math.Clamp((long)((Stopwatch.GetTimestamp() - tick.Timestamp) * s_nanosecondsPerTick), 1, HighestLatency);
        _interval.RecordValue(nanoseconds);
        _total.RecordValue(nanoseconds);
        Received++;
    }

    /// <summary>Prints a <c>stats</c> report if a second has passed since the last one.</summary>
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

        Print(Report("stats") with
        {
            Received = Received,
            Lost = reader.LostCount,
            Lag = Math.Max(0, log.GetStatus().NextSequence - reader.NextSequence),
            Rate = (long)((Received - _receivedAtLastReport) / seconds),
            Latency = Latencies(_interval),
        });
        _interval.Reset();
        _receivedAtLastReport = Received;
        _lastReport = now;
    }

    /// <summary>
    /// Prints the <c>final</c> report: totals, whole-run latencies, and whether received + lost equals
    /// <paramref name="expected"/> (the records written while this reader was attached). Returns that check.
    /// </summary>
    public bool ReportFinal(long lost, long expected)
    {
        bool exact = Received + lost == expected;
        Print(Report("final") with { Received = Received, Lost = lost, Expected = expected, Exact = exact, Latency = Latencies(_total) });
        return exact;
    }

    /// <summary>A report of <paramref name="kind"/> with role, pid and time filled in.</summary>
    public ReaderReport Report(string kind) => new() { Kind = kind, Role = role, Pid = Environment.ProcessId, T = Math.Round(Elapsed, 3) };

    /// <summary>Prints a report as one JSON line.</summary>
    public static void Print(ReaderReport report)
    {
        Console.WriteLine(report.ToJsonLine());
        Console.Out.Flush();
    }

    private static Latencies? Latencies(LongHistogram h) => h.TotalCount == 0
        ? null
        : new Latencies(h.GetValueAtPercentile(50), h.GetValueAtPercentile(90), h.GetValueAtPercentile(99), h.GetValueAtPercentile(99.9), h.GetMaxValue());
}
