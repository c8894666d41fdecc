using System.Diagnostics;
using System.Globalization;
using SharedLog.Benchmarks.CrossProcess;

namespace SharedLog.Benchmarks.Suite;

/// <summary>
/// <c>bench suite</c>: every cross-process comparison in one run and one harness: log throughput against the raw
/// ring, pipes and sockets; ByteRing bulk throughput against the raw ring's bulk copy; spinning and blocking round
/// trips against the raw ring and a bare futex. Each measurement is its own set of processes, warmed up until
/// their JIT is quiet, pinned with <c>taskset</c> (or not), bracketed by a cross-core round-trip probe; runs are
/// interleaved. Writes <c>latest.json</c>, <c>latest.md</c> and <c>throughput.png</c>.
/// </summary>
public static class Suite
{
    /// <summary>Runs the suite, or with <c>--role</c> one of its processes.</summary>
    public static int Run(string[] args)
    {
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
            if (options.Has("help"))
            {
                PrintUsage();
                return 0;
            }

            if (options.TextOrNull("role") is { } role)
            {
                int index = (int)options.Integer("index", 0);
                string? pipeHandle = options.TextOrNull("pipe-handle");
                var settings = RoleSettings.Parse(options);
                options.ThrowIfUnknown();
                return role switch
                {
                    "writer" => PairedRoles.Handles(settings.Transport) ? PairedRoles.Writer(settings) : ThroughputRoles.Writer(settings),
                    "reader" => PairedRoles.Handles(settings.Transport) ? PairedRoles.Reader(settings, pipeHandle) : ThroughputRoles.Reader(settings, index, pipeHandle),
                    "lead" => PingPongRoles.Lead(settings),
                    "echo" => PingPongRoles.Echo(settings),
                    _ => throw new ArgumentException($"unknown role '{role}'"),
                };
            }

            return Coordinate(options);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"suite: {e.Message}");
            PrintUsage();
            return 2;
        }
    }

    private static void PrintUsage() => Console.Error.WriteLine(
        """
        usage: bench suite [--quick | --full] [options]
          (no mode)          every size (64 B, 256 B, 4 KiB) and reader count (1, 3) pinned, most unpinned; 3 runs
          --quick            64 B and 4 KiB to one reader, 64 KiB bulk, round trips; about two minutes
          --full             5 runs of everything, pinned and unpinned, with 1 s windows
          --runs N           measurements per case (at least 3 for a spread; the median is reported)
          --seconds S        measured window of each measurement
          --only LIST        comma-separated groups: throughput, bulk, spin, blocking
          --sizes LIST       comma-separated message or write sizes in bytes (e.g. 64,4096); default all
          --transports LIST  comma-separated transports (e.g. log,raw,pipe); a missing baseline is left out
          --readers LIST     comma-separated reader counts of throughput runs (1, 3)
          --cpus A,B         the two CPUs to pin the lead and its followers to (default 0,1)
          --reader-idle S    SharedLog readers' idle strategy in throughput and bulk runs: default, spin, yield,
                             backoff or block0 (blocking without a spin phase)
          --out DIR          where latest.json, latest.md and throughput.png go (default bench-results)
        """);

    private static int Coordinate(BenchOptions options)
    {
        var plan = options.Has("full") ? Plan.Full : options.Has("quick") ? Plan.Quick : Plan.Default;
        int runs = (int)options.Integer("runs", plan.Runs);
        double? seconds = options.TextOrNull("seconds") is null ? null : options.Number("seconds", 1);
        plan = plan with
        {
            ReaderIdle = options.Text("reader-idle", "default"),
            Runs = runs,
            ThroughputSeconds = seconds ?? plan.ThroughputSeconds,
            RoundTripSeconds = seconds ?? plan.RoundTripSeconds,
        };
        var groups = options.Text("only", "throughput,bulk,spin,blocking").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        int[] cpus = [.. options.Text("cpus", "0,1").Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture))];
        string output = options.Text("out", "bench-results");
        var sizes = options.TextOrNull("sizes")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToHashSet();
        var transports = options.TextOrNull("transports")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var readerCounts = options.TextOrNull("readers")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToHashSet();
        options.ThrowIfUnknown();
        if (runs < 1 || cpus.Length != 2)
        {
            throw new ArgumentException("--runs must be positive and --cpus name two CPUs");
        }

        if (Environment.ProcessorCount < 2 || cpus.Max() >= Environment.ProcessorCount)
        {
            Console.WriteLine($"only {Environment.ProcessorCount} CPU(s): pinned cases are skipped");
            plan = plan with { Pinning = false };
        }

        var cases = plan.Cases(groups);
        if (sizes is not null)
        {
            cases = [.. cases.Where(c => sizes.Contains(c.Size))];
        }

        if (transports is not null)
        {
            cases = [.. cases.Where(c => transports.Contains(c.Transport))];
        }

        if (readerCounts is not null)
        {
            cases = [.. cases.Where(c => readerCounts.Contains(c.Readers))];
        }

        string root = OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var started = DateTimeOffset.UtcNow;
        double? loadStart = MachineInfo.LoadAverage();
        Console.WriteLine($"suite ({plan.Mode}): {cases.Count} cases x {runs} runs, interleaved; windows {plan.ThroughputSeconds:0.##} s (throughput) / {plan.RoundTripSeconds:0.##} s (round trips)");
        Console.WriteLine($"machine: {MachineInfo.Describe()}");
        Console.WriteLine($"this process may run on CPUs {SelfProcess.ThreadCpus()}; pinned cases put the lead process on CPU {cpus[0]} and its followers on CPU {cpus[1]} (taskset -c)");
        Console.WriteLine($"warm-up: until the compiled-method count is still for {plan.WarmupStable.TotalMilliseconds:0} ms, at least {plan.WarmupMinimum.TotalMilliseconds:0} ms, at most {plan.WarmupMaximum.TotalSeconds:0} s, in every process");
        Console.WriteLine($"{MachineInfo.Load()} at start");

        var results = cases.ToDictionary(c => c.Id, _ => new List<RunResult>(), StringComparer.Ordinal);
        var failures = new List<string>();
        int sequence = 0;
        for (int run = 1; run <= runs; run++)
        {
            foreach (var c in cases.Where(c => !c.MeasuredWithItsFigure))
            {
                string directory = Path.Combine(root, $"sharedlog-bench-{Environment.ProcessId}-{sequence++}");
                Directory.CreateDirectory(directory);
                try
                {
                    var measured = MeasureOnce(c, run, plan, cpus, directory);
                    for (int i = 0; i < measured.Length; i++)
                    {
                        // A paired run's later results are its baselines and companions, in order, measured in the same
                        // processes; one that --transports left out is not reported.
                        var of = i == 0 ? c : cases.SingleOrDefault(x => x.Id == c.SiblingId(c.Sides[i - 1]));
                        if (of is null)
                        {
                            continue;
                        }

                        var result = measured[i];
                        results[of.Id].Add(result);
                        Console.WriteLine(Describe(of, result, runs));
                        if (!result.Verified)
                        {
                            failures.Add($"{of.Id} run {run}: {result.Check}");
                        }
                    }
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException or FormatException or IOException)
                {
                    Console.WriteLine($"  run {run}/{runs} {c.Id}: FAILED: {e.Message}");
                    failures.Add($"{c.Id} run {run}: {e.Message.Split('\n')[0]}");
                }
                finally
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
        }

        double? loadEnd = MachineInfo.LoadAverage();
        Console.WriteLine($"{MachineInfo.Load()} at end");
        var report = Report.Build(plan, cases, results, cpus, started, loadStart, loadEnd, failures);
        Console.WriteLine();
        Console.WriteLine(report.Markdown);
        string written = report.Write(output);
        Console.WriteLine($"results: {written}");
        foreach (string failure in failures)
        {
            Console.WriteLine($"FAILED: {failure}");
        }

        return failures.Count == 0 ? 0 : 1;
    }

    /// <summary>One measurement: the case's result, and for a paired case its baseline's result after it.</summary>
    private static RunResult[] MeasureOnce(Case c, int run, Plan plan, int[] cpus, string directory)
    {
        var settings = new RoleSettings(
            c.Transport, c.Bulk, c.Size, c.Readers,
            c.RoundTrip ? plan.RoundTripSeconds : plan.ThroughputSeconds,
            c.Pinned ? cpus[0] : -1, c.Pinned ? cpus[1] : -1,
            plan.WarmupMinimum, plan.WarmupStable, plan.WarmupMaximum, directory, plan.ReaderIdle);
        double before = CoreProbe.RoundTripNanoseconds(cpus[0], cpus[1]);
        string role = c.RoundTrip ? "lead" : "writer";
        using var lead = SelfProcess.Start(["suite", "--role", role, .. settings.ToArgs()], settings.LeadCpu);
        var lines = SelfProcess.Finish(lead, TimeSpan.FromMinutes(2));
        double after = CoreProbe.RoundTripNanoseconds(cpus[0], cpus[1]);
        if (c.Paired && !c.RoundTrip)
        {
            return [.. Enumerable.Range(0, 1 + c.Sides.Length).Select(side => RunResult.FromPaired(run, lines, before, after, side))];
        }

        if (!c.RoundTrip)
        {
            return [RunResult.FromThroughput(c, run, lines, before, after)];
        }

        var figure = RunResult.FromRoundTrip(run, lines, before, after, "lead");
        return c.Paired ? [figure, RunResult.FromRoundTrip(run, lines, before, after, "pair")] : [figure];
    }

    private static string Describe(Case c, RunResult r, int runs)
    {
        string figure = c.Group switch
        {
            "throughput" => $"{Statistics.Rate(r.Value)} msg/s",
            "bulk" => $"{r.Value:0.00} GB/s",
            _ => $"p50 {r.Value:0} ns  p99 {r.P99:0} ns  p99.9 {r.P999:0} ns",
        };
        string warm = r.WarmupFinished ? "warm" : "WARM-UP TIMED OUT";
        string alloc = string.Join(' ', r.AllocPerOp.Values.Select(a => a.ToString("0.##", CultureInfo.InvariantCulture)));
        string pins = string.Join(' ', r.Cpus.Select(p => $"{p.Key}:{p.Value}"));
        return $"  run {r.Run}/{runs} {c.Id,-34} {figure,-38} probe {r.ProbeBeforeNs:0}/{r.ProbeAfterNs:0} ns  {warm} (max {r.Warmup.Max(w => w.Milliseconds)} ms), jit in window {r.JitInWindow}, alloc B/op {alloc}, cpus {pins}, preempted {string.Join(' ', r.Preempted.Values)}, {(r.Verified ? "ok" : "NOT VERIFIED: " + r.Check)}";
    }
}
