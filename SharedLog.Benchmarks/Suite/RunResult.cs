using System.Diagnostics;
using SharedLog.Benchmarks.CrossProcess;

namespace SharedLog.Benchmarks.Suite;

/// <summary>Warm-up of one process: finished (its compiled-method count went still), or timed out.</summary>
internal sealed record WarmupReport(string Process, string Status, long Milliseconds, long CompiledMethods);

/// <summary>
/// One measurement of one case: the figure (throughput of the slowest reader, or the median round trip), the
/// round-trip probe around it, every process's warm-up and CPUs, allocations per operation, and whether every
/// message arrived intact.
/// </summary>
internal sealed record RunResult(
    int Run,
    double Value,
    double? P99,
    double? P999,
    double ProbeBeforeNs,
    double ProbeAfterNs,
    IReadOnlyList<WarmupReport> Warmup,
    long JitInWindow,
    IReadOnlyDictionary<string, double> AllocPerOp,
    IReadOnlyDictionary<string, string> Cpus,
    IReadOnlyDictionary<string, long> Preempted,
    bool Verified,
    string Check,
    double? LoadAverage)
{
    public bool WarmupFinished => Warmup.All(w => w.Status == "finished");

    /// <summary>Reads a throughput measurement from the writer's output (its own line and its readers').</summary>
    public static RunResult FromThroughput(Case c, int run, IReadOnlyList<string> lines, double before, double after)
    {
        var writer = Fields.Find(lines, "writer");
        var readers = Enumerable.Range(0, c.Readers).Select(i => Fields.Find(lines, $"reader{i}")).ToArray();
        long count = writer.Long("count");
        long total = writer.Long("total");
        var problems = new List<string>();
        double slowest = double.MaxValue;
        for (int i = 0; i < readers.Length; i++)
        {
            var r = readers[i];
            if (r.Long("bad") != 0)
            {
                problems.Add($"reader {i}: {r.Long("bad")} torn or out-of-order");
            }

            if (r.Long("count") != count || r.Long("total") != total)
            {
                problems.Add($"reader {i}: received {r.Long("count")} of {count} in the window, {r.Long("total")} of {total} in all");
            }

            if (!c.Bulk && r.Long("checksum") != writer.Long("checksum"))
            {
                problems.Add($"reader {i}: checksum differs");
            }

            double seconds = (r.Long("end") - writer.Long("start")) / (double)Stopwatch.Frequency;
            slowest = Math.Min(slowest, r.Long("count") / seconds);
        }

        double value = c.Bulk ? slowest / 1e9 : slowest;
        var warmup = new List<WarmupReport> { Warm("writer", writer) };
        warmup.AddRange(readers.Select((r, i) => Warm($"reader{i}", r)));
        var alloc = new Dictionary<string, double> { ["writer"] = writer.Double("alloc_per_op") };
        var cpus = new Dictionary<string, string> { ["writer"] = writer.Text("cpus", "?") };
        var preempted = new Dictionary<string, long> { ["writer"] = writer.Long("preempted") };
        for (int i = 0; i < readers.Length; i++)
        {
            alloc[$"reader{i}"] = readers[i].Double("alloc_per_op");
            cpus[$"reader{i}"] = readers[i].Text("cpus", "?");
            preempted[$"reader{i}"] = readers[i].Long("preempted");
        }

        long jit = writer.Long("jit_in_window") + readers.Sum(r => r.Long("jit_after_warm"));
        string check = problems.Count == 0
            ? c.Bulk ? "every byte against the pattern, counts equal" : "every message, order, count and checksum"
            : string.Join("; ", problems);
        return new RunResult(run, value, null, null, before, after, warmup, jit, alloc, cpus, preempted, problems.Count == 0, check, MachineInfo.LoadAverage());
    }

    /// <summary>Reads one transport's figure of a paired throughput measurement (<see cref="PairedRoles"/>).</summary>
    /// <param name="side">0 for the figure, 1, 2, … for its baselines measured in the same processes.</param>
    public static RunResult FromPaired(int run, IReadOnlyList<string> lines, double before, double after, int side)
    {
        var writer = Fields.Find(lines, PairedRoles.Role(side));
        var reader = Fields.Find(lines, "reader0");
        string total = $"total{side}";
        var problems = new List<string>();
        if (reader.Long("bad") != 0)
        {
            problems.Add($"reader: {reader.Long("bad")} reads differed from the pattern");
        }

        if (reader.Long(total) != writer.Long("total") || writer.Long("carried") <= 0)
        {
            problems.Add($"reader: {reader.Long(total)} of {writer.Long("total")} received");
        }

        return new RunResult(run, writer.Double("value"), null, null, before, after,
            [Warm("writer", writer), Warm("reader0", reader)], writer.Long("jit_in_window") + reader.Long("jit_after_warm"),
            new Dictionary<string, double> { ["writer"] = writer.Double("alloc_per_op"), ["reader0"] = reader.Double("alloc_per_op") },
            new Dictionary<string, string> { ["writer"] = writer.Text("cpus", "?"), ["reader0"] = reader.Text("cpus", "?") },
            new Dictionary<string, long> { ["writer"] = writer.Long("preempted"), ["reader0"] = reader.Long("preempted") },
            problems.Count == 0, problems.Count == 0 ? "every byte or message checked, counts equal" : string.Join("; ", problems),
            MachineInfo.LoadAverage());
    }

    /// <summary>Reads a round-trip measurement from the lead's output (its own line and its echo's).</summary>
    /// <param name="role">The lead's result line: <c>lead</c>, or <c>pair</c> for a paired run's baseline.</param>
    public static RunResult FromRoundTrip(int run, IReadOnlyList<string> lines, double before, double after, string role)
    {
        var lead = Fields.Find(lines, role);
        var echo = Fields.Find(lines, "echo");
        bool verified = lead.Long("count") > 0 && echo.Long("count") >= lead.Long("count");
        return new RunResult(run, lead.Double("p50"), lead.Double("p99"), lead.Double("p999"), before, after,
            [Warm("lead", lead), Warm("echo", echo)], lead.Long("jit_in_window"),
            new Dictionary<string, double> { ["lead"] = lead.Double("alloc_per_op") },
            new Dictionary<string, string> { ["lead"] = lead.Text("cpus", "?"), ["echo"] = echo.Text("cpus", "?") },
            new Dictionary<string, long> { ["lead"] = lead.Long("preempted") },
            verified, verified ? $"{lead.Long("count")} round trips, every echo equal to its ping" : "echo count short",
            MachineInfo.LoadAverage());
    }

    private static WarmupReport Warm(string process, Fields f) => new(
        process,
        f.Long("warm") switch { 1 => "finished", 2 => "timed out", _ => "unknown" },
        f.Long("warm_ms"),
        f.Long("jit"));
}
