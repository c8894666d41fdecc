using System.Diagnostics;
using System.Globalization;
using SharedLog.Demo.Reader;

namespace SharedLog.Demo.Writer;

/// <summary>
/// The demo: one writer process fans market-data ticks out to reader processes through a shared log. A fast
/// subscriber keeps up; a deliberately slow one is lapped and reports exactly what it lost (the writer never waits:
/// <see cref="SlowReaderPolicy.Evict"/>); a telemetry sidecar attaches mid-run, reads the recent window, tails for a
/// while and detaches. A live summary is drawn once a second, then a final table.
/// </summary>
public static class Program
{
    private const string Usage =
        """
        usage: SharedLog.Demo.Writer [--seconds S] [--rate TICKS_PER_S] [--slow-rate TICKS_PER_S] [--name NAME] [--dir DIR] [--publish-only]
          --seconds       how long to publish (default 10)
          --rate          ticks per second (default 500000)
          --slow-rate     how many ticks per second the slow subscriber manages (default 50000)
          --publish-only  just publish; start readers yourself with SharedLog.Demo.Reader subscribe NAME
        """;

    public static int Main(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "--help" or "-h")
            {
                Console.WriteLine(Usage);
                return 0;
            }

            if (args[i] == "--publish-only")
            {
                options["publish-only"] = "yes";
            }
            else if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
            {
                options[args[i][2..]] = args[++i];
            }
            else
            {
                Console.Error.WriteLine(Usage);
                return 2;
            }
        }

        double seconds = double.Parse(options.GetValueOrDefault("seconds", "10"), CultureInfo.InvariantCulture);
        double rate = double.Parse(options.GetValueOrDefault("rate", "500000"), CultureInfo.InvariantCulture);
        string slowRate = options.GetValueOrDefault("slow-rate", "50000");
        string name = options.GetValueOrDefault("name", $"sharedlog-demo-{Environment.ProcessId}");
        string? directory = options.GetValueOrDefault("dir");

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
            return options.ContainsKey("publish-only")
                ? PublishOnly(writer, log, rate, seconds)
                : RunDemo(writer, log, rate, seconds, slowRate, directory);
        }
        finally
        {
            writer.Dispose();
            log.Dispose();
            SegmentedLog.Delete(name, directory);
        }
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

    private static int PublishOnly(LogWriter writer, SegmentedLog log, double rate, double seconds)
    {
        Console.WriteLine($"publishing {rate:N0} ticks/s to {log.FilePath} for {seconds:0.#} s");
        long published = Publish(writer, rate, seconds, (_, _) => { });
        Console.WriteLine($"published {published:N0} ticks");
        return 0;
    }

    private static int RunDemo(LogWriter writer, SegmentedLog log, double rate, double seconds, string slowRate, string? directory)
    {
        string name = Path.GetFileName(log.FilePath);
        string[] where = directory is null ? [] : ["--dir", directory];
        Console.WriteLine($"SharedLog demo: writer pid {Environment.ProcessId} publishes {rate:N0} ticks/s for {seconds:0.#} s to {log.FilePath}");
        Console.WriteLine($"readers: a fast subscriber, a slow one ({slowRate} ticks/s), and a telemetry sidecar attached from {seconds * 0.3:0.#} s to {seconds * 0.7:0.#} s");
        Console.WriteLine();

        using var fast = ReaderProcess.Start("fast", ["subscribe", name, "--role", "fast", .. where]);
        using var slow = ReaderProcess.Start("slow", ["subscribe", name, "--role", "slow", "--max-rate", slowRate, .. where]);
        if (!fast.WaitFor("ready", TimeSpan.FromSeconds(30)) || !slow.WaitFor("ready", TimeSpan.FromSeconds(30)))
        {
            Console.Error.WriteLine("demo: the subscribers did not attach");
            return 1;
        }

        ReaderProcess? sidecar = null;
        Task<string>? inspection = null;
        double inspectedAt = 0;
        var dashboard = new Dashboard(log, seconds);
        Dashboard.Row[] Rows() =>
        [
            new("fast subscriber", fast, ""),
            new("slow subscriber", slow, ""),
            new("telemetry sidecar", sidecar, $"attaches at {seconds * 0.3:0.#} s"),
        ];

        double nextRender = 1;
        long published = Publish(writer, rate, seconds, (elapsed, published) =>
        {
            if (sidecar is null && elapsed >= seconds * 0.3)
            {
                sidecar = ReaderProcess.Start("sidecar", ["sidecar", name, "--seconds", (seconds * 0.4).ToString(CultureInfo.InvariantCulture), .. where]);
            }

            if (inspection is null && elapsed >= seconds * 0.5)
            {
                inspectedAt = elapsed;
                inspection = ReaderProcess.RunAsync(["inspect", name, .. where]);
            }

            if (elapsed >= nextRender)
            {
                dashboard.Render(elapsed, published, Rows());
                nextRender += 1;
            }
        });

        bool finished = fast.WaitForExit(TimeSpan.FromSeconds(30)) & slow.WaitForExit(TimeSpan.FromSeconds(30)) & (sidecar?.WaitForExit(TimeSpan.FromSeconds(30)) ?? false);
        dashboard.Render(seconds, published, Rows());
        Dashboard.RenderFinal(seconds, published, Rows());
        if (sidecar?.Latest("window") is { } window)
        {
            Console.WriteLine($"sidecar, on attaching: a snapshot of {Format.Count(long.Parse(window["records"], CultureInfo.InvariantCulture))} records " +
                $"(sequences {window["first"]}..{window["next"]}) in {window["segments"]} segments, walked in {window["attempts"]} attempt(s); busiest symbol {window["busiest"]}, VWAP {window["vwap"]}");
        }

        if (inspection is not null && inspection.Wait(TimeSpan.FromSeconds(10)))
        {
            Console.WriteLine();
            Console.WriteLine($"SharedLog.Demo.Reader inspect {name}, at t={inspectedAt:0.0} s:");
            Console.Write(inspection.Result);
        }

        if (fast.Number("final", "lost") is > 0)
        {
            Console.WriteLine($"note: the fast subscriber lost {Percent(fast)} too: it fell further behind than the retained window (is the machine busy?)");
        }

        bool exact = finished && Rows().All(r => r.Reader?.ExitCode == 0 && r.Reader.Latest("final")?.GetValueOrDefault("exact") == "yes");
        Console.WriteLine();
        Console.WriteLine(exact
            ? $"demo: ok, every reader accounted for every tick (received + lost = written while attached); the slow subscriber lost {Percent(slow)} of them"
            : "demo: FAILED, a reader did not finish or its accounting does not add up (see above)");
        return exact ? 0 : 1;
    }

    private static string Percent(ReaderProcess reader)
        => reader.Number("final", "received") is { } received && reader.Number("final", "lost") is { } lost && received + lost > 0
            ? $"{100.0 * lost / (received + lost):0.#}%"
            : "?";
}
