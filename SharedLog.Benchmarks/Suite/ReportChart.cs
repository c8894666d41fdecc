using ScottPlot;

namespace SharedLog.Benchmarks.Suite;

/// <summary>The throughput table as a bar chart (PNG), for the docs.</summary>
internal static class ReportChart
{
    private static readonly (string Transport, string Label, string Color)[] s_series =
    [
        ("log", "SharedLog log", "#1f77b4"),
        ("raw", "raw ring (ceiling)", "#7f7f7f"),
        ("pipe", "pipe, 64 KiB writes", "#ff7f0e"),
        ("uds", "Unix socket, 64 KiB writes", "#2ca02c"),
    ];

    /// <summary>Draws payload GB/s (msg/s × size) per transport, grouped by size, readers and pinning; false when there is nothing to draw.</summary>
    public static bool Throughput(Report report, string path)
    {
        var groups = report.Cases.Where(c => c.Group == "throughput" && c.Transport == "log").ToList();
        if (groups.Count == 0)
        {
            return false;
        }

        var plot = new Plot();
        var bars = new List<Bar>();
        var ticks = new List<Tick>();
        double width = 1.0 / (s_series.Length + 1);
        for (int g = 0; g < groups.Count; g++)
        {
            var key = groups[g];
            for (int s = 0; s < s_series.Length; s++)
            {
                var c = report.Cases.FirstOrDefault(x => x.Group == "throughput" && x.Transport == s_series[s].Transport
                    && x.Size == key.Size && x.Readers == key.Readers && x.Pinned == key.Pinned);
                if (c?.Value is not { } v)
                {
                    continue;
                }

                double position = g + (s - (s_series.Length - 1) / 2.0) * width;
                bars.Add(new Bar
                {
                    Position = position,
                    Value = v.Median * c.Size / 1e9,
                    ValueBase = 0,
                    Size = width * 0.9,
                    FillColor = Color.FromHex(s_series[s].Color),
                    LineWidth = 0,
                    Error = 0,
                });

                // The spread of the runs, min to max, as a line through the bar's top.
                var line = plot.Add.Line(position, v.Min * c.Size / 1e9, position, v.Max * c.Size / 1e9);
                line.LineWidth = 1.5f;
                line.LineColor = Colors.Black;
                line.MarkerSize = 0;
            }

            string size = key.Size >= 1024 ? $"{key.Size / 1024} KiB" : $"{key.Size} B";
            ticks.Add(new Tick(g, $"{size}, {key.Readers} reader{(key.Readers == 1 ? "" : "s")}\n{(key.Pinned ? "pinned" : "unpinned")}"));
        }

        plot.Add.Bars(bars);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. ticks]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Margins(bottom: 0);
        plot.Axes.AutoScale();
        plot.Axes.SetLimitsX(-0.6, groups.Count - 0.4);
        plot.YLabel("payload GB/s to every reader (msg/s × size)");
        plot.Title($"Message throughput, medians of {report.Plan.Runs} runs (lines: min–max)\n{report.Machine.Line}, load {report.LoadAverageStart:0.0}–{report.LoadAverageEnd:0.0}", size: 12);
        foreach (var (_, label, color) in s_series)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = label, FillColor = Color.FromHex(color) });
        }

        plot.Legend.Alignment = Alignment.UpperLeft;
        plot.ShowLegend();
        plot.SavePng(path, Math.Max(900, 170 * groups.Count), 560);
        return true;
    }
}
