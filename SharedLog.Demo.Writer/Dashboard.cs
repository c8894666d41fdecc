using System.Globalization;
using System.Text;
using SharedLog.Demo.Reader;
using Spectre.Console;

namespace SharedLog.Demo.Writer;

/// <summary>
/// The demo's view of its readers: a Spectre.Console table refreshed in place on a terminal, one plain line per
/// refresh when output is redirected, and the final table. Each row says what the reader is doing now: a reader
/// that stopped reporting is shown as stale (never as live), and after publishing stops a reader still reading what
/// is left is shown as draining.
/// </summary>
public sealed class Dashboard(SegmentedLog log, double seconds)
{
    /// <summary>A reader report older than this is stale: the row stops claiming the reader is live.</summary>
    private const double StaleAfterSeconds = 2.5;

    private long _publishedBefore;
    private double _elapsedBefore;

    /// <summary>One reader row: its label, its process once started, and what to show before that.</summary>
    public sealed record Row(string Label, ReaderProcess? Reader, string Pending);

    /// <summary>What the writer is doing.</summary>
    public enum Phase
    {
        /// <summary>Publishing ticks.</summary>
        Publishing,

        /// <summary>Publishing stopped; readers finish what is left.</summary>
        Draining,
    }

    /// <summary>Whether to draw a live table (a terminal) or plain lines (redirected output).</summary>
    public static bool IsLive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>The writer's rate at each refresh: (seconds, ticks per second), for the chart.</summary>
    public List<(double Seconds, double Rate)> WriterHistory { get; } = [];

    /// <summary>The live table at this instant; also records the writer's rate.</summary>
    public Table Build(double elapsed, long published, Phase phase, IReadOnlyList<Row> rows)
    {
        double rate = Rate(elapsed, published, phase);
        var status = log.GetStatus();
        var table = new Table { Border = TableBorder.Rounded };
        table.Title = new TableTitle(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"SharedLog demo  t={elapsed:0.0}/{seconds:0.#} s  {(phase == Phase.Publishing ? "publishing" : "publishing stopped, readers draining")}  {log.SlowReaderPolicy}, window {Format.Count(status.NextSequence - status.FirstSequence)} records, sequences {Ranges.HalfOpen(status.FirstSequence, status.NextSequence)}")));
        table.AddColumns("", "pid", "state", "rate/s", "received", "lost", "lag", "p50", "p99", "p99.9", "max");
        foreach (int column in Enumerable.Range(3, 8))
        {
            table.Columns[column].RightAligned();
        }

        table.AddRow("writer", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), phase == Phase.Publishing ? "[green]publishing[/]" : "done",
            Format.Rate(rate), Format.Count(published), "", "", "", "", "", "");
        foreach (var row in rows)
        {
            table.AddRow(Cells(row, phase));
        }

        table.Caption = new TableTitle("latencies over the last second; lag = records written but not yet read; ranges are half-open [first, next)");
        return table;
    }

    /// <summary>One plain line for redirected output; also records the writer's rate.</summary>
    public string Line(double elapsed, long published, Phase phase, IReadOnlyList<Row> rows)
    {
        double rate = Rate(elapsed, published, phase);
        var line = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"t={elapsed,4:0.0}s {(phase == Phase.Publishing ? "publishing" : "draining")} writer {Format.Rate(rate)}/s {Format.Count(published)}"));
        foreach (var row in rows)
        {
            string[] cells = Cells(row, phase).Select(c => Markup.Remove(c)).ToArray();
            line.Append(CultureInfo.InvariantCulture, $" | {row.Label.Split(' ')[0]} {cells[2]}");
            if (cells[3] != "")
            {
                line.Append(CultureInfo.InvariantCulture, $" {cells[3]}/s lost {cells[5]} lag {cells[6]} p99 {cells[8]}");
            }
        }

        return line.ToString();
    }

    /// <summary>The final table: totals, whole-run latency percentiles and the exact loss accounting.</summary>
    public static Table Final(double elapsed, long published, IReadOnlyList<Row> rows)
    {
        var table = new Table { Border = TableBorder.Rounded };
        table.Title = new TableTitle(string.Create(CultureInfo.InvariantCulture,
            $"final: {Format.Count(published)} ticks published in {elapsed:0.0} s ({Format.Rate(published / elapsed)}/s); under Evict the writer never waits for a reader"));
        table.AddColumns("reader", "received", "lost", "received+lost", "written while attached", "exact", "p50", "p90", "p99", "p99.9", "max");
        foreach (int column in Enumerable.Range(1, 4).Concat(Enumerable.Range(6, 5)))
        {
            table.Columns[column].RightAligned();
        }

        foreach (var row in rows)
        {
            var final = row.Reader?.Latest("final");
            if (final is null)
            {
                string why = row.Reader is null ? "never started" : $"no final report (exit code {row.Reader.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "-"})";
                table.AddRow([row.Label, $"[red]{why}[/]", .. Enumerable.Repeat("", 9)]);
                continue;
            }

            var l = final.Latency;
            table.AddRow(row.Label, Format.Count(final.Received), Format.Count(final.Lost), Format.Count(final.Received + final.Lost),
                Format.Count(final.Expected), final.Exact == true ? "[green]yes[/]" : "[red]no[/]",
                Format.Latency(l?.P50), Format.Latency(l?.P90), Format.Latency(l?.P99), Format.Latency(l?.P999), Format.Latency(l?.Max));
        }

        return table;
    }

    private double Rate(double elapsed, long published, Phase phase)
    {
        double rate = (published - _publishedBefore) / Math.Max(1e-3, elapsed - _elapsedBefore);
        (_publishedBefore, _elapsedBefore) = (published, elapsed);
        if (phase == Phase.Publishing)
        {
            WriterHistory.Add((elapsed, rate));
        }

        return rate;
    }

    /// <summary>A reader row's cells (Spectre markup): label, pid, state, rate, received, lost, lag, p50, p99, p99.9, max.</summary>
    private static string[] Cells(Row row, Phase phase)
    {
        var reader = row.Reader;
        if (reader is null)
        {
            return [row.Label, "-", $"[grey]{Markup.Escape(row.Pending)}[/]", "", "", "", "", "", "", "", ""];
        }

        string pid = reader.Pid.ToString(CultureInfo.InvariantCulture);
        if (reader.Latest("final") is { } final)
        {
            return [row.Label, pid, "done", "", Format.Count(final.Received), Format.Count(final.Lost), "", "", "", "", ""];
        }

        if (reader.ExitCode is { } code)
        {
            return [row.Label, pid, $"[red]exited ({code}) without a final report[/]", "", "", "", "", "", "", "", ""];
        }

        var stats = reader.Latest("stats");
        if (stats is null)
        {
            return [row.Label, pid, reader.Latest("ready") is null ? "starting" : "attached", "", "", "", "", "", "", "", ""];
        }

        double silent = reader.SecondsSinceReport;
        string state = silent > StaleAfterSeconds
            ? string.Create(CultureInfo.InvariantCulture, $"[yellow]stale: no report for {silent:0} s[/]")
            : phase == Phase.Draining ? "[blue]draining[/]" : "[green]live[/]";
        string Cell(string text) => silent > StaleAfterSeconds ? $"[grey]{text}[/]" : text;
        var l = stats.Latency;
        return [row.Label, pid, state, Cell(Format.Rate(stats.Rate)), Cell(Format.Count(stats.Received)), Cell(Format.Count(stats.Lost)), Cell(Format.Count(stats.Lag)),
            Cell(Format.Latency(l?.P50)), Cell(Format.Latency(l?.P99)), Cell(Format.Latency(l?.P999)), Cell(Format.Latency(l?.Max))];
    }
}
