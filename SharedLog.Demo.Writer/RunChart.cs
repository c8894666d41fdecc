using ScottPlot;

namespace SharedLog.Demo.Writer;

/// <summary>A PNG of the run: each reader's rate and p99 latency per second, with the writer's rate for reference.</summary>
public static class RunChart
{
    /// <summary>Draws the chart to <paramref name="path"/> (creating its directory) and returns the full path.</summary>
    /// <param name="path">Where to write the PNG.</param>
    /// <param name="writer">The writer's rate at each refresh, in seconds since publishing started.</param>
    /// <param name="rows">The readers, whose report times are on the demo's clock.</param>
    /// <param name="origin">When publishing started on the demo's clock.</param>
    public static string Save(string path, IReadOnlyList<(double Seconds, double Rate)> writer, IReadOnlyList<Dashboard.Row> rows, double origin)
    {
        var chart = new Multiplot();
        chart.AddPlots(2);
        var rates = chart.GetPlot(0);
        var latencies = chart.GetPlot(1);

        var publish = rates.Add.Scatter(writer.Select(w => w.Seconds).ToArray(), writer.Select(w => w.Rate / 1e3).ToArray());
        publish.LegendText = "writer (published)";
        publish.LineStyle.Pattern = LinePattern.Dashed;
        publish.Color = Colors.Gray;
        foreach (var row in rows)
        {
            var history = row.Reader?.History ?? [];
            if (history.Count == 0)
            {
                continue;
            }

            double[] t = history.Select(h => h.Seconds - origin).ToArray();
            var rate = rates.Add.Scatter(t, history.Select(h => (h.Report.Rate ?? 0) / 1e3).ToArray());
            rate.LegendText = row.Label;
            var withLatency = history.Where(h => h.Report.Latency is not null).ToArray();
            var p99 = latencies.Add.Scatter(withLatency.Select(h => h.Seconds - origin).ToArray(), withLatency.Select(h => Math.Log10(h.Report.Latency!.P99 / 1e3)).ToArray());
            p99.LegendText = row.Label;
            p99.Color = rate.Color;
        }

        rates.Title("SharedLog demo: ticks per second received by each reader");
        rates.YLabel("thousand ticks / s");
        rates.XLabel("seconds since publishing started");
        rates.ShowLegend(Edge.Right);
        latencies.Title("p99 latency from append to read, per second");
        latencies.YLabel("p99 latency (log scale)");
        latencies.XLabel("seconds since publishing started");
        latencies.ShowLegend(Edge.Right);
        latencies.Axes.Margins(0.05, 0.15);

        // Log scale: plot log10(µs) and label the ticks with the µs they stand for.
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int power = -1; power <= 6; power++)
        {
            ticks.AddMajor(power, power switch { -1 => "0.1 µs", 0 => "1 µs", 1 => "10 µs", 2 => "100 µs", 3 => "1 ms", 4 => "10 ms", 5 => "100 ms", _ => "1 s" });
        }

        latencies.Axes.Left.TickGenerator = ticks;

        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        chart.SavePng(full, 1200, 900);
        return full;
    }
}
