using System.Globalization;
using System.Text;

namespace SharedLog.Demo.Writer;

/// <summary>
/// The demo's live summary, redrawn in place about once a second on a terminal (one plain line per second when
/// output is redirected), and the final table.
/// </summary>
public sealed class Dashboard(SegmentedLog log, double seconds)
{
    private const string Header = "                     pid    rate/s      received          lost       lag       p50       p99     p99.9       max";
    private readonly bool _live = !Console.IsOutputRedirected;
    private int _linesDrawn;
    private long _publishedBefore;
    private double _elapsedBefore;

    /// <summary>One reader row: its label, its process once started, and what to show before that.</summary>
    public sealed record Row(string Label, ReaderProcess? Reader, string Pending);

    /// <summary>Draws the live summary.</summary>
    public void Render(double elapsed, long published, IReadOnlyList<Row> rows)
    {
        double rate = (published - _publishedBefore) / Math.Max(1e-3, elapsed - _elapsedBefore);
        (_publishedBefore, _elapsedBefore) = (published, elapsed);
        if (!_live)
        {
            var line = new StringBuilder($"t={elapsed,4:0.0}s writer {Format.Rate(rate)}/s {Format.Count(published)}");
            foreach (var row in rows)
            {
                line.Append(CultureInfo.InvariantCulture, $" | {row.Label.Split(' ')[0]} ");
                var reader = row.Reader;
                line.Append(reader is null ? row.Pending
                    : reader.Latest("final") is not null ? "done"
                    : reader.Latest("stats") is null ? "attaching"
                    : $"{Format.Rate(reader.Number("stats", "rate"))}/s lost {Format.Count(reader.Number("stats", "lost"))} lag {Format.Count(reader.Number("stats", "lag"))} p99 {Format.Latency(reader.Number("stats", "p99_ns"))}");
            }

            Console.WriteLine(line);
            return;
        }

        var status = log.GetStatus();
        var lines = new List<string>
        {
            $"SharedLog demo  t={elapsed:0.0}/{seconds:0.#} s  {log.FilePath}  {log.SlowReaderPolicy}, window {Format.Count(status.NextSequence - status.FirstSequence)} records in segments {status.OldestGeneration:N0}..{status.HeadGeneration:N0}",
            Header,
            $"{"writer",-18}{Environment.ProcessId,7}{Format.Rate(rate),10}{Format.Count(published),14}",
        };
        foreach (var row in rows)
        {
            lines.Add(ReaderLine(row));
        }

        if (_linesDrawn > 0)
        {
            Console.Write($"\e[{_linesDrawn}F");
        }

        foreach (string line in lines)
        {
            Console.Write("\e[2K");
            Console.WriteLine(line);
        }

        _linesDrawn = lines.Count;
    }

    /// <summary>Prints the final table: totals, whole-run latency percentiles and the exact loss accounting.</summary>
    public static void RenderFinal(double elapsed, long published, IReadOnlyList<Row> rows)
    {
        Console.WriteLine();
        Console.WriteLine($"final: {Format.Count(published)} ticks published in {elapsed:0.0} s ({Format.Rate(published / elapsed)}/s); under Evict the writer never waits for a reader");
        Console.WriteLine("                        received          lost   received+lost  exact       p50       p90       p99     p99.9       max");
        foreach (var row in rows)
        {
            var final = row.Reader?.Latest("final");
            if (final is null)
            {
                Console.WriteLine($"{row.Label,-18}  {(row.Reader is null ? "never started" : $"no final report (exit code {row.Reader.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "-"})")}");
                continue;
            }

            long? Get(string key) => row.Reader!.Number("final", key);
            Console.WriteLine(
                $"{row.Label,-18}{Format.Count(Get("received")),14}{Format.Count(Get("lost")),14}{Format.Count(Get("received") + Get("lost")),16}  {final.GetValueOrDefault("exact", "?"),-5}" +
                $"{Format.Latency(Get("p50_ns")),10}{Format.Latency(Get("p90_ns")),10}{Format.Latency(Get("p99_ns")),10}{Format.Latency(Get("p999_ns")),10}{Format.Latency(Get("max_ns")),10}");
        }
    }

    private static string ReaderLine(Row row)
    {
        var reader = row.Reader;
        string label = $"{row.Label,-18}";
        if (reader is null)
        {
            return $"{label}{"-",7}  {row.Pending}";
        }

        string pid = reader.Pid.ToString(CultureInfo.InvariantCulture);
        if (reader.Latest("final") is not null)
        {
            return $"{label}{pid,7}  done: received {Format.Count(reader.Number("final", "received"))}, lost {Format.Count(reader.Number("final", "lost"))}";
        }

        if (reader.Latest("stats") is null)
        {
            return $"{label}{pid,7}  {(reader.Latest("ready") is null ? "starting" : "attached")}";
        }

        long? Get(string key) => reader.Number("stats", key);
        return $"{label}{pid,7}{Format.Rate(Get("rate")),10}{Format.Count(Get("received")),14}{Format.Count(Get("lost")),14}{Format.Count(Get("lag")),10}" +
            $"{Format.Latency(Get("p50_ns")),10}{Format.Latency(Get("p99_ns")),10}{Format.Latency(Get("p999_ns")),10}{Format.Latency(Get("max_ns")),10}";
    }
}
