using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using SharedLog.Demo.Reader;
using Spectre.Console;

namespace SharedLog.Demo.Writer;

/// <summary>
/// The demo: one writer process fans market-data ticks out to reader processes through a shared log. A fast
/// subscriber keeps up; a deliberately slow one is lapped and reports exactly what it lost (the writer never waits:
/// <see cref="SlowReaderPolicy.Evict"/>); a telemetry sidecar attaches mid-run, reads the recent window, tails for a
/// while and detaches. A live table is refreshed once a second, then a final table, and optionally a chart.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var seconds = new Option<double>("--seconds") { Description = "How long to publish", DefaultValueFactory = _ => 10, HelpName = "S" };
        var rate = new Option<double>("--rate") { Description = "Ticks per second", DefaultValueFactory = _ => 500_000, HelpName = "TICKS_PER_S" };
        var slowRate = new Option<int>("--slow-rate") { Description = "Ticks per second the slow subscriber manages", DefaultValueFactory = _ => 50_000, HelpName = "TICKS_PER_S" };
        var name = new Option<string?>("--name") { Description = "The log's name (default: sharedlog-demo-PID)" };
        var dir = new Option<string?>("--dir") { Description = "The log's directory (default: the library's)", HelpName = "DIR" };
        var plot = new Option<string?>("--plot") { Description = "Write a PNG chart of each reader's rate and latency over the run to this path", HelpName = "PNG" };
        var publishOnly = new Option<bool>("--publish-only") { Description = "Just publish; start readers yourself with SharedLog.Demo.Reader subscribe NAME" };
        DemoCli.Require(seconds, v => v is > 0 and <= 86_400, "--seconds must be between 0 and 86400.");
        DemoCli.Require(rate, v => v is > 0 and <= 100_000_000, "--rate must be between 0 and 100,000,000 ticks per second.");
        DemoCli.Require(slowRate, v => v > 0, "--slow-rate must be positive.");

        var root = DemoCli.Root("SharedLog.Demo.Writer", "A writer fanning market-data ticks out to reader processes through a SharedLog segmented log.");
        root.Add(seconds);
        root.Add(rate);
        root.Add(slowRate);
        root.Add(name);
        root.Add(dir);
        root.Add(plot);
        root.Add(publishOnly);
        root.SetAction(p => Run(p.GetValue(seconds), p.GetValue(rate), p.GetValue(slowRate), p.GetValue(name) ?? $"sharedlog-demo-{Environment.ProcessId}",
            p.GetValue(dir), p.GetValue(plot), p.GetValue(publishOnly)));
        return DemoCli.Run(root, args);
    }

    /// <summary>Publishes ticks at <paramref name="rate"/> per second until <paramref name="seconds"/> have passed.</summary>
    /// <param name="writer">The log's writer.</param>
    /// <param name="rate">Ticks per second.</param>
    /// <param name="seconds">How long to publish.</param>
    /// <param name="idle">Called between bursts (about once a millisecond) with the elapsed seconds and ticks published.</param>
    /// <returns>How many ticks were published.</returns>
    public static long Publish(LogWriter writer, double rate, double seconds, Action<double, long> idle)
    {
        var prices = new double[Tick.SymbolCount];
        prices.AsSpan().Fill(100);
        var clock = Stopwatch.StartNew();
        long published = 0;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            // Publish what is due by now, then sleep: ticks arrive in bursts, as market data does.
            for (long due = (long)(clock.Elapsed.TotalSeconds * rate); published < due; published++)
            {
                int symbol = Random.Shared.Next(Tick.SymbolCount);
                prices[symbol] *= 1 + ((Random.Shared.NextDouble() - 0.5) * 1e-3);
                writer.Append(new Tick(Stopwatch.GetTimestamp(), prices[symbol], symbol, Random.Shared.Next(1, 10) * 100), Tick.TypeId);
            }

            idle(clock.Elapsed.TotalSeconds, published);
            Thread.Sleep(1);
        }

        // An empty record tells readers the session is over.
        writer.Append(ReadOnlySpan<byte>.Empty, Tick.EndOfSessionTypeId);
        return published;
    }

    private static int Run(double seconds, double rate, int slowRate, string name, string? directory, string? plot, bool publishOnly)
    {
        // Market data: segments of 4096 ticks (32 bytes each with the record header), 128k ticks retained (a quarter of
        // a second at 500k/s), and 8 spare segments of slack (65 ms) before a lagging reader or snapshot is evicted.
        // The writer never waits: a reader that falls further behind is lapped and counts its loss.
        SegmentedLog.Delete(name, directory);
        var (writer, log) = SegmentedLog.CreateClaimed(name, new SegmentedLogOptions
        {
            SegmentCapacity = 4096,
            SegmentBytes = 4096 * 32,
            RetainedCapacity = 128 * 1024,
            SpareSegments = 8,
            SlowReaderPolicy = SlowReaderPolicy.Evict,
            Directory = directory,
        });
        try
        {
            return publishOnly
                ? PublishOnly(writer, log, rate, seconds)
                : RunDemo(writer, log, rate, seconds, slowRate, directory, plot);
        }
        finally
        {
            writer.Dispose();
            log.Dispose();
            SegmentedLog.Delete(name, directory);
        }
    }

    private static int PublishOnly(LogWriter writer, SegmentedLog log, double rate, double seconds)
    {
        Console.WriteLine($"publishing {rate:N0} ticks/s to {log.FilePath} for {seconds:0.#} s");
        long published = Publish(writer, rate, seconds, (_, _) => { });
        Console.WriteLine($"published {published:N0} ticks");
        return 0;
    }

    private static int RunDemo(LogWriter writer, SegmentedLog log, double rate, double seconds, int slowRate, string? directory, string? plot)
    {
        string name = Path.GetFileName(log.FilePath);
        string[] where = directory is null ? [] : ["--dir", directory];
        string slow = slowRate.ToString(CultureInfo.InvariantCulture);
        Console.WriteLine($"SharedLog demo: writer pid {Environment.ProcessId} publishes {rate:N0} ticks/s for {seconds:0.#} s to {log.FilePath}");
        Console.WriteLine($"readers: a fast subscriber, a slow one ({slowRate:N0} ticks/s), and a telemetry sidecar attached from {seconds * 0.3:0.#} s to {seconds * 0.7:0.#} s");
        Console.WriteLine();

        var clock = Stopwatch.StartNew();
        using var fast = ReaderProcess.Start("fast", clock, ["subscribe", name, "--role", "fast", .. where]);
        using var slowReader = ReaderProcess.Start("slow", clock, ["subscribe", name, "--role", "slow", "--max-rate", slow, .. where]);
        if (!fast.WaitFor("ready", TimeSpan.FromSeconds(30)) || !slowReader.WaitFor("ready", TimeSpan.FromSeconds(30)))
        {
            Console.Error.WriteLine("demo: the subscribers did not attach");
            return 1;
        }

        ReaderProcess? sidecar = null;
        Task<string>? inspection = null;
        double inspectedAt = 0;
        double started = clock.Elapsed.TotalSeconds;
        var dashboard = new Dashboard(log, seconds);
        Dashboard.Row[] Rows() =>
        [
            new("fast subscriber", fast, ""),
            new("slow subscriber", slowReader, ""),
            new("telemetry sidecar", sidecar, $"attaches at {seconds * 0.3:0.#} s"),
        ];

        long published = 0;
        bool finished = false;
        void Show(Action<Dashboard.Phase> refresh)
        {
            double nextRender = 1;
            published = Publish(writer, rate, seconds, (elapsed, count) =>
            {
                if (sidecar is null && elapsed >= seconds * 0.3)
                {
                    sidecar = ReaderProcess.Start("sidecar", clock, ["sidecar", name, "--seconds", (seconds * 0.4).ToString(CultureInfo.InvariantCulture), .. where]);
                }

                if (inspection is null && elapsed >= seconds * 0.5)
                {
                    inspectedAt = elapsed;
                    inspection = ReaderProcess.RunAsync(["inspect", name, .. where]);
                }

                if (elapsed >= nextRender)
                {
                    published = count;
                    refresh(Dashboard.Phase.Publishing);
                    nextRender += 1;
                }
            });

            // Publishing is over: the readers drain what is left and report. Keep refreshing until they have all exited.
            var drain = Stopwatch.StartNew();
            while (!(finished = Rows().All(r => r.Reader?.ExitCode is not null)) && drain.Elapsed < TimeSpan.FromSeconds(30))
            {
                refresh(Dashboard.Phase.Draining);
                Thread.Sleep(250);
            }

            foreach (var row in Rows())
            {
                row.Reader?.WaitForExit(TimeSpan.FromSeconds(1));
            }

            refresh(Dashboard.Phase.Draining);
        }

        double Elapsed() => clock.Elapsed.TotalSeconds - started;
        if (Dashboard.IsLive)
        {
            AnsiConsole.Live(new Text("starting...")).AutoClear(false).Start(live =>
                Show(phase =>
                {
                    live.UpdateTarget(dashboard.Build(Elapsed(), published, phase, Rows()));
                    live.Refresh();
                }));
        }
        else
        {
            Show(phase => Console.WriteLine(dashboard.Line(Elapsed(), published, phase, Rows())));
        }

        Console.WriteLine();
        if (!Dashboard.IsLive)
        {
            // Redirected output has no width; a log file does not wrap, so let the table take what it needs.
            AnsiConsole.Profile.Width = 160;
        }

        AnsiConsole.Write(Dashboard.Final(seconds, published, Rows()));
        if (sidecar?.Latest("window")?.Window is { } window)
        {
            Console.WriteLine($"sidecar, on attaching: a snapshot of {Format.Count(window.Records)} records (sequences {Ranges.HalfOpen(window.First, window.Next)}) " +
                $"in {window.Segments} segments, walked in {window.Attempts} attempt(s); busiest symbol {window.BusiestSymbol}, VWAP {window.Vwap:0.00}");
        }

        if (inspection is not null && inspection.Wait(TimeSpan.FromSeconds(10)))
        {
            Console.WriteLine();
            Console.WriteLine($"SharedLog.Demo.Reader inspect {name}, at t={inspectedAt:0.0} s:");
            Console.Write(inspection.Result);
        }

        if (fast.Latest("final")?.Lost is > 0)
        {
            Console.WriteLine($"note: the fast subscriber lost {Percent(fast)} too: it fell further behind than the retained window (is the machine busy?)");
        }

        if (plot is not null)
        {
            Console.WriteLine();
            Console.WriteLine($"chart: {RunChart.Save(plot, dashboard.WriterHistory, Rows(), started)}");
        }

        bool exact = finished && Rows().All(r => r.Reader?.ExitCode == 0 && r.Reader.Latest("final")?.Exact == true);
        Console.WriteLine();
        Console.WriteLine(exact
            ? $"demo: ok, every reader accounted for every tick (received + lost = written while attached); the slow subscriber lost {Percent(slowReader)} of them"
            : "demo: FAILED, a reader did not finish or its accounting does not add up (see above)");
        return exact ? 0 : 1;
    }

    private static string Percent(ReaderProcess reader)
        => reader.Latest("final") is { Received: { } received, Lost: { } lost } && received + lost > 0
            ? $"{100.0 * lost / (received + lost):0.#}%"
            : "?";
}
