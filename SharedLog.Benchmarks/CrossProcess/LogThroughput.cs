using System.Diagnostics;
using System.Globalization;

namespace SharedLog.Benchmarks.CrossProcess;

/// <summary>
/// <c>bench log-throughput</c>: fixed-size messages from a writer process to a reader process through a
/// <see cref="SegmentedLog"/> (lossless under <see cref="SlowReaderPolicy.Block"/>, and under
/// <see cref="SlowReaderPolicy.Evict"/>), and the same messages through an anonymous pipe, one write per message
/// and in 64 KiB batches, in the same run. Runs are interleaved so that every transport sees the same machine load.
/// </summary>
/// <remarks>
/// Each measurement starts a writer child process, which starts its reader as a child of its own (a pipe can only
/// be handed down), waits until the reader is attached, then writes for a fixed time and sends an end marker. The
/// figure is messages delivered divided by the time from the writer's first write to the reader's receipt of the
/// end marker (both clocks are <see cref="Stopwatch.GetTimestamp"/>, which is system-wide). The reader checks every
/// byte of every message, the sequence order and the checksum, and counts what its loop allocated.
/// </remarks>
public static partial class LogThroughput
{
    private static readonly string[] s_allTransports = ["log", "log-evict", "pipe", "pipe-batched"];

    /// <summary>Runs the benchmark (or, with <c>--role</c>, one of its child processes).</summary>
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

            switch (options.TextOrNull("role"))
            {
                case "writer":
                    return WriterRole(options);
                case "reader":
                    return ReaderRole(options);
                case null:
                    break;
                case var role:
                    throw new ArgumentException($"unknown role '{role}'");
            }

            return Coordinate(options);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"log-throughput: {e.Message}");
            PrintUsage();
            return 2;
        }
    }

    private static void PrintUsage() => Console.Error.WriteLine(
        """
        usage: bench log-throughput [options]
          --runs N              measurements per transport; the median is reported (default 3)
          --seconds S           writing time per measurement (default 1)
          --size BYTES          message size, a multiple of 8 (default 64)
          --transports LIST     comma-separated: log, log-evict, pipe, pipe-batched (default all)
          --pin                 pin the writer to CPU 0 and the reader to CPU 1 (--writer-cpu/--reader-cpu to choose)
          --segment-capacity N  records per log segment (default 4096)
          --retained N          records the log retains (default 64k)
          --dir PATH            directory of the log file (default /dev/shm on Linux)
        """);

    private static int Coordinate(BenchOptions options)
    {
        int runs = (int)options.Integer("runs", 3);
        double seconds = options.Number("seconds", 1);
        int size = (int)options.Integer("size", 64);
        TestMessage.ValidateLength(size);
        string[] transports = options.Text("transports", string.Join(',', s_allTransports)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (string transport in transports)
        {
            if (!s_allTransports.Contains(transport))
            {
                throw new ArgumentException($"unknown transport '{transport}' (known: {string.Join(", ", s_allTransports)})");
            }
        }

        bool pin = options.Has("pin") || options.Has("writer-cpu") || options.Has("reader-cpu");
        int writerCpu = pin ? (int)options.Integer("writer-cpu", 0) : -1;
        int readerCpu = pin ? (int)options.Integer("reader-cpu", Math.Min(1, Environment.ProcessorCount - 1)) : -1;
        var childArgs = new List<string>
        {
            "--size", size.ToString(CultureInfo.InvariantCulture),
            "--seconds", seconds.ToString(CultureInfo.InvariantCulture),
            "--writer-cpu", writerCpu.ToString(CultureInfo.InvariantCulture),
            "--reader-cpu", readerCpu.ToString(CultureInfo.InvariantCulture),
            "--segment-capacity", options.Integer("segment-capacity", 4096).ToString(CultureInfo.InvariantCulture),
            "--retained", options.Integer("retained", 1 << 16).ToString(CultureInfo.InvariantCulture),
        };
        if (options.TextOrNull("dir") is { } directory)
        {
            childArgs.AddRange(["--dir", directory]);
        }

        options.ThrowIfUnknown();
        if (runs < 1 || seconds <= 0)
        {
            throw new ArgumentException("--runs and --seconds must be positive");
        }

        Console.WriteLine($"log-throughput: {size}-byte messages, writer process -> reader process, {runs} run(s) x {seconds:0.##} s per transport, interleaved");
        Console.WriteLine($"machine: {MachineInfo.Describe()}");
        Console.WriteLine($"pinning: {(pin ? $"writer on CPU {writerCpu}, reader on CPU {readerCpu}" : "none (the OS schedules both processes)")}; {MachineInfo.Load()} at start");

        var results = transports.ToDictionary(t => t, _ => new List<Measurement>());
        bool allVerified = true;
        for (int run = 1; run <= runs; run++)
        {
            foreach (string transport in transports)
            {
                Measurement m;
                try
                {
                    m = MeasureOnce(transport, childArgs);
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException or FormatException or IOException)
                {
                    Console.WriteLine($"  run {run}/{runs} {Label(transport)}: FAILED: {e.Message}");
                    allVerified = false;
                    continue;
                }

                results[transport].Add(m);
                allVerified &= m.Verified;
                Console.WriteLine($"  run {run}/{runs} {Label(transport),-32} {Statistics.Rate(m.DeliveredPerSecond),8} msg/s delivered, writer {Statistics.Rate(m.WrittenPerSecond),8} msg/s, {m.Check}");
            }
        }

        Console.WriteLine($"{MachineInfo.Load()} at end");
        PrintTable(results, size, runs);
        return allVerified ? 0 : 1;
    }

    private static Measurement MeasureOnce(string transport, List<string> childArgs)
    {
        using var writer = SelfProcess.Start(["log-throughput", "--role", "writer", "--transport", transport, .. childArgs]);
        var lines = SelfProcess.Finish(writer, TimeSpan.FromMinutes(2));
        var w = Fields.Find(lines, "writer");
        var r = Fields.Find(lines, "reader");
        return Measurement.From(transport, w, r);
    }

    private static void PrintTable(Dictionary<string, List<Measurement>> results, int size, int runs)
    {
        double? pipe = Median(results, "pipe");
        double? batched = Median(results, "pipe-batched");
        Console.WriteLine();
        Console.WriteLine($"{size}-byte messages, median of {runs} run(s); ratios are against the pipe baselines of the same run");
        Console.WriteLine($"{"transport",-34}{"delivered/s",12}  {"runs",-26}{"lost",8}{"vs pipe",10}{"vs pipe 64K",13}{"alloc B/msg w/r",18}  verified");
        foreach (var (transport, list) in results)
        {
            if (list.Count == 0)
            {
                Console.WriteLine($"{Label(transport),-34}{"failed",12}");
                continue;
            }

            double median = Statistics.Median(list.Select(m => m.DeliveredPerSecond));
            string each = string.Join(' ', list.Select(m => Statistics.Rate(m.DeliveredPerSecond)));
            double lost = Statistics.Median(list.Select(m => m.LostFraction));
            string alloc = $"{Statistics.Median(list.Select(m => m.WriterBytesPerMessage)):0.###}/{Statistics.Median(list.Select(m => m.ReaderBytesPerMessage)):0.###}";
            Console.WriteLine(
                $"{Label(transport),-34}{Statistics.Rate(median),12}  {each,-26}{lost,8:0.#%}{Ratio(median, pipe),10}{Ratio(median, batched),13}{alloc,18}  {(list.All(m => m.Verified) ? list[0].Check : "NO")}");
        }

        foreach (var (transport, list) in results)
        {
            if (list.Count > 0 && transport.StartsWith("log", StringComparison.Ordinal))
            {
                double median = Statistics.Median(list.Select(m => m.DeliveredPerSecond));
                Console.WriteLine(
                    $"summary: log-throughput {size} B | {Label(transport)} {Statistics.Rate(median)} msg/s" +
                    $" | pipe {(pipe is { } p ? Statistics.Rate(p) : "-")} msg/s ({Ratio(median, pipe)})" +
                    $" | pipe 64 KiB {(batched is { } b ? Statistics.Rate(b) : "-")} msg/s ({Ratio(median, batched)})" +
                    $" | reader alloc {Statistics.Median(list.Select(m => m.ReaderBytesPerMessage)):0.###} B/msg");
            }
        }
    }

    private static double? Median(Dictionary<string, List<Measurement>> results, string transport)
        => results.TryGetValue(transport, out var list) && list.Count > 0 ? Statistics.Median(list.Select(m => m.DeliveredPerSecond)) : null;

    private static string Ratio(double value, double? baseline) => baseline is > 0 ? $"{value / baseline.Value:0.00}x" : "-";

    private static string Label(string transport) => transport switch
    {
        "log" => "SharedLog, Block (lossless)",
        "log-evict" => "SharedLog, Evict",
        "pipe" => "anonymous pipe, 1 write/msg",
        "pipe-batched" => "anonymous pipe, 64 KiB writes",
        _ => transport,
    };

    /// <summary>One measurement, from the writer's and the reader's result lines.</summary>
    private sealed record Measurement(double DeliveredPerSecond, double WrittenPerSecond, double LostFraction,
        double WriterBytesPerMessage, double ReaderBytesPerMessage, bool Verified, string Check)
    {
        public static Measurement From(string transport, Fields writer, Fields reader)
        {
            long written = writer.Long("count");
            long received = reader.Long("count");
            long lost = reader.Long("lost");
            long bad = reader.Long("bad");
            double frequency = Stopwatch.Frequency;
            double delivered = received / ((reader.Long("end") - writer.Long("start")) / frequency);
            double writing = written / ((writer.Long("end") - writer.Long("start")) / frequency);
            bool lossless = transport != "log-evict";
            string check;
            bool verified;
            if (bad != 0)
            {
                (verified, check) = (false, $"NO: {bad} messages torn or out of order");
            }
            else if (lossless)
            {
                verified = received == written && lost == 0 && reader.Long("checksum") == writer.Long("checksum");
                check = verified ? "count+checksum" : $"NO: received {received} of {written}, lost {lost}, checksum {(reader.Long("checksum") == writer.Long("checksum") ? "equal" : "differs")}";
            }
            else
            {
                verified = received + lost == written;
                check = verified ? "received+lost=written" : $"NO: received {received} + lost {lost} != written {written}";
            }

            return new Measurement(delivered, writing, written == 0 ? 0 : (double)lost / written,
                (double)writer.Long("alloc") / Math.Max(1, written), (double)reader.Long("alloc") / Math.Max(1, received), verified, check);
        }
    }
}
