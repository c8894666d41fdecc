using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using SharedLog.Benchmarks.CrossProcess;

namespace SharedLog.Benchmarks.Suite;

/// <summary>Median, extremes and quartiles of a case's runs.</summary>
internal sealed record Spread(double Median, double Min, double Max, double Q1, double Q3)
{
    public static Spread? Of(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Where(v => !double.IsNaN(v)).Order()];
        return sorted.Length == 0 ? null : new Spread(Quantile(sorted, 0.5), sorted[0], sorted[^1], Quantile(sorted, 0.25), Quantile(sorted, 0.75));
    }

    private static double Quantile(double[] sorted, double q)
    {
        double index = q * (sorted.Length - 1);
        int low = (int)Math.Floor(index);
        int high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (index - low);
    }
}

/// <summary>A baseline beside a figure: its median and the figure's median divided by it.</summary>
internal sealed record BaselineReport(string Transport, string Label, double? Median, double? Ratio, double? P99Ratio);

/// <summary>Everything measured for one case.</summary>
internal sealed record CaseReport(
    string Id, string Group, string Transport, string Label, int Size, int Readers, bool Pinned, string Unit, bool HigherIsBetter,
    Spread? Value, Spread? P99, Spread? P999, IReadOnlyList<BaselineReport> Baselines,
    double? AllocPerOp, bool WarmupFinished, long MaxJitInWindow, bool Verified, IReadOnlyList<RunResult> Runs);

/// <summary>The machine a report was measured on.</summary>
internal sealed record MachineReport(int Cores, string? CpuModel, string Os, string Runtime, string Architecture, string Line);

/// <summary>The whole suite's results, as written to JSON and Markdown.</summary>
internal sealed record Report(
    int Schema, string Mode, DateTimeOffset Started, DateTimeOffset Finished, MachineReport Machine,
    double? LoadAverageStart, double? LoadAverageEnd, int[] PinnedCpus, string CoordinatorCpus, Plan Plan,
    IReadOnlyList<CaseReport> Cases, IReadOnlyList<string> Failures)
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The report as Markdown (tables with their machine line).</summary>
    [JsonIgnore]
    public string Markdown => ReportMarkdown.Render(this);

    public static Report Build(Plan plan, List<Case> cases, Dictionary<string, List<RunResult>> results, int[] cpus,
        DateTimeOffset started, double? loadStart, double? loadEnd, List<string> failures)
    {
        var reports = new List<CaseReport>();
        foreach (var c in cases)
        {
            var runs = results[c.Id];
            var value = Spread.Of(runs.Select(r => r.Value));
            var p99 = c.RoundTrip ? Spread.Of(runs.Select(r => r.P99 ?? double.NaN)) : null;
            var baselines = new List<BaselineReport>();
            foreach (string b in c.Baselines)
            {
                var other = results.GetValueOrDefault(c.SiblingId(b));
                var median = other is null ? null : Spread.Of(other.Select(r => r.Value))?.Median;
                var otherP99 = other is null || !c.RoundTrip ? null : Spread.Of(other.Select(r => r.P99 ?? double.NaN))?.Median;
                if (other is not null && other.Count == runs.Count && cases.Any(x => x.Id == c.SiblingId(b) && x.MeasuredWithItsFigure))
                {
                    // Measured in the same processes, run by run: the median of the runs' ratios, so a placement that
                    // changed between runs moves both sides of each ratio alike.
                    baselines.Add(new BaselineReport(b, Case.Label(b), median,
                        Spread.Of(runs.Zip(other, (f, o) => Ratio(f.Value, o.Value) ?? double.NaN))?.Median,
                        c.RoundTrip ? Spread.Of(runs.Zip(other, (f, o) => Ratio(f.P99, o.P99) ?? double.NaN))?.Median : null));
                    continue;
                }

                baselines.Add(new BaselineReport(b, Case.Label(b), median, Ratio(value?.Median, median), Ratio(p99?.Median, otherP99)));
            }

            reports.Add(new CaseReport(c.Id, c.Group, c.Transport, Case.Label(c.Transport), c.Size, c.Readers, c.Pinned, c.Unit, c.HigherIsBetter,
                value, p99, c.RoundTrip ? Spread.Of(runs.Select(r => r.P999 ?? double.NaN)) : null, baselines,
                Spread.Of(runs.Select(r => r.AllocPerOp.Values.DefaultIfEmpty(double.NaN).Max()))?.Median,
                runs.Count > 0 && runs.All(r => r.WarmupFinished), runs.Count == 0 ? 0 : runs.Max(r => r.JitInWindow),
                runs.Count > 0 && runs.All(r => r.Verified), runs));
        }

        string? cpu = MachineInfo.CpuModel();
        var machine = new MachineReport(Environment.ProcessorCount, cpu, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription,
            RuntimeInformation.ProcessArchitecture.ToString(), MachineInfo.Describe());
        return new Report(1, plan.Mode, started, DateTimeOffset.UtcNow, machine, loadStart, loadEnd, cpus, SelfProcess.ThreadCpus(), plan, reports, failures);
    }

    /// <summary>Writes <c>latest.json</c>, <c>latest.md</c> and <c>throughput.png</c> under <paramref name="directory"/>; returns what it wrote.</summary>
    public string Write(string directory)
    {
        Directory.CreateDirectory(directory);

        // Results are machine- and moment-specific: the folder keeps them out of version control by itself.
        File.WriteAllText(Path.Combine(directory, ".gitignore"), "*\n");
        string json = Path.Combine(directory, "latest.json");
        string markdown = Path.Combine(directory, "latest.md");
        string chart = Path.Combine(directory, "throughput.png");
        File.WriteAllText(json, JsonSerializer.Serialize(this, s_json));
        File.WriteAllText(markdown, Markdown);
        bool charted = ReportChart.Throughput(this, chart);
        return $"{Path.GetFullPath(json)}, {Path.GetFullPath(markdown)}{(charted ? ", " + Path.GetFullPath(chart) : "")}";
    }

    private static double? Ratio(double? value, double? baseline) => value is { } v && baseline is > 0 ? v / baseline.Value : null;
}

/// <summary>The Markdown form of a <see cref="Report"/>.</summary>
internal static class ReportMarkdown
{
    public static string Render(Report report)
    {
        var md = new StringBuilder();
        var p = report.Plan;
        md.AppendLine(CultureInfo.InvariantCulture, $"Machine: {report.Machine.Line}; load average {Load(report.LoadAverageStart)} at start, {Load(report.LoadAverageEnd)} at end.");
        md.AppendLine();
        md.AppendLine($"Mode `{report.Mode}`, {report.Started:yyyy-MM-dd HH:mm} UTC: median of {p.Runs} runs (min–max in brackets), runs interleaved; " +
            $"windows of {p.ThroughputSeconds:0.##} s (throughput) and {p.RoundTripSeconds:0.##} s (round trips) after a warm-up that waits until every process's JIT is quiet. " +
            $"Pinned: the writer (or pinger) under `taskset -c {report.PinnedCpus[0]}`, every reader (or echo) under `taskset -c {report.PinnedCpus[1]}`. " +
            $"SharedLog readers in throughput and bulk runs idle with `{p.ReaderIdle}`. " +
            "Ratio: figure median / baseline median; for a paired baseline (measured in the same processes, alternating bursts), the median of the runs' ratios. Probe: cross-core round trip between those CPUs just before and after each run (ns, min–max over the row's runs).");
        md.AppendLine();

        Table(md, report, "throughput", "Message throughput: msg/s delivered to every reader (the slowest), every message checked",
            ["size", "readers"], c => [Size(c.Size), c.Readers.ToString(CultureInfo.InvariantCulture)]);
        Table(md, report, "bulk", "Byte ring bulk throughput: GB/s, every byte checked",
            ["write size"], c => [Size(c.Size)]);
        Table(md, report, "spin", "Spinning round trip, 8-byte messages: p50 / p99 / p99.9 (ns)", [], _ => []);
        Table(md, report, "blocking", "Blocking round trip, 8-byte messages: p50 / p99 / p99.9 (ns)", [], _ => []);

        if (report.Failures.Count > 0)
        {
            md.AppendLine("Failures:");
            md.AppendLine();
            foreach (string f in report.Failures)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- {f}");
            }

            md.AppendLine();
        }

        return md.ToString();
    }

    private static void Table(StringBuilder md, Report report, string group, string title, string[] keyColumns, Func<CaseReport, string[]> keys)
    {
        var figures = report.Cases.Where(c => c.Group == group && c.Baselines.Count > 0).ToList();
        if (figures.Count == 0)
        {
            return;
        }

        bool latency = group is "spin" or "blocking";
        bool caseColumn = latency || figures.Select(c => c.Transport).Distinct().Count() > 1;
        string[] baselines = [.. figures.SelectMany(c => c.Baselines.Select(b => b.Transport)).Distinct()];
        md.AppendLine(CultureInfo.InvariantCulture, $"### {title}");
        md.AppendLine();
        var header = new List<string>(keyColumns) { "pinning" };
        if (caseColumn)
        {
            header.Add("case");
        }

        header.Add(caseColumn ? "figure" : figures[0].Label);
        foreach (string b in baselines)
        {
            header.Add(Case.Label(b));
            header.Add(latency ? "ratio p50 / p99" : "ratio");
        }

        header.AddRange(["alloc B/op", "probe ns", "warm-up; JIT in window; preempted"]);
        md.AppendLine("| " + string.Join(" | ", header) + " |");
        md.AppendLine("|" + string.Concat(Enumerable.Repeat(" --- |", header.Count)));
        foreach (var c in figures)
        {
            var row = new List<string>(keys(c)) { c.Pinned ? "pinned" : "unpinned" };
            if (caseColumn)
            {
                row.Add(c.Label);
            }

            row.Add(Cell(c));
            var involved = new List<CaseReport> { c };
            foreach (string b in baselines)
            {
                var baseline = c.Baselines.FirstOrDefault(x => x.Transport == b);
                var other = report.Cases.FirstOrDefault(x => x.Group == c.Group && x.Transport == b && x.Size == c.Size && x.Readers == c.Readers && x.Pinned == c.Pinned);
                if (baseline is null || other is null)
                {
                    row.Add("–");
                    row.Add("–");
                    continue;
                }

                involved.Add(other);
                row.Add(Cell(other));
                row.Add(latency ? $"{Ratio(baseline.Ratio)} / {Ratio(baseline.P99Ratio)}" : Ratio(baseline.Ratio));
            }

            row.Add(c.AllocPerOp is { } a ? a.ToString("0.###", CultureInfo.InvariantCulture) : "–");
            var probes = involved.SelectMany(x => x.Runs).SelectMany(r => new[] { r.ProbeBeforeNs, r.ProbeAfterNs }).Where(v => !double.IsNaN(v)).ToList();
            row.Add(probes.Count == 0 ? "–" : $"{probes.Min():0}–{probes.Max():0}");
            int timedOut = involved.SelectMany(x => x.Runs).Count(r => !r.WarmupFinished);
            long jit = involved.Max(x => x.MaxJitInWindow);
            long preempted = c.Runs.SelectMany(r => r.Preempted.Values).DefaultIfEmpty(0).Max();
            row.Add((timedOut == 0 ? "finished" : $"timed out in {timedOut} run(s)") + $"; ≤ {jit}; ≤ {preempted}" + (involved.All(x => x.Verified) ? "" : "; NOT VERIFIED"));
            md.AppendLine("| " + string.Join(" | ", row) + " |");
        }

        md.AppendLine();
    }

    private static string Cell(CaseReport c)
    {
        if (c.Value is not { } v)
        {
            return "failed";
        }

        return c.Group switch
        {
            "throughput" => $"{Statistics.Rate(v.Median)} ({Statistics.Rate(v.Min)}–{Statistics.Rate(v.Max)})",
            "bulk" => $"{v.Median:0.00} ({v.Min:0.00}–{v.Max:0.00})",
            _ => $"{v.Median:0} / {c.P99?.Median:0} / {c.P999?.Median:0} ({v.Min:0}–{v.Max:0})",
        };
    }

    private static string Ratio(double? ratio) => ratio is { } r ? $"{r:0.00}x" : "–";

    private static string Size(int bytes) => bytes >= 1024 ? $"{bytes / 1024} KiB" : $"{bytes} B";

    private static string Load(double? load) => load is { } l ? l.ToString("0.00", CultureInfo.InvariantCulture) : "unknown";
}
