using System.Diagnostics;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SharedLog.Benchmarks.CrossProcess;

/// <summary>
/// <c>bench ping-pong</c>: what waiting costs and how fast waking is, between two processes, each figure beside its
/// baseline from the same run:
/// <list type="bullet">
/// <item>idle CPU of a reader blocked for a few seconds with no data (blocking, async, backoff), beside a process
/// blocked in a pipe read;</item>
/// <item>blocking round trip (both sides sleep on futexes, no spin; and the async path), beside a pipe round trip;</item>
/// <item>spinning round trip (both sides busy-spin on the log), beside a raw shared-memory flag round trip;</item>
/// <item>the cost of an append (the notify fence and flag load are on this path) with nobody waiting;</item>
/// <item>the cost of reading 64-byte records in one thread, record by record and in batches.</item>
/// </list>
/// </summary>
/// <remarks>
/// A round trip is one 8-byte record (or message) each way; the parent times each one with
/// <see cref="Stopwatch.GetTimestamp"/> and reports the median and the 99th percentile, after a warm-up. Each
/// experiment runs <c>--runs</c> times, interleaved with its baseline, and the medians of the runs are reported.
/// Invocation: <c>dotnet run -c Release --project SharedLog.Benchmarks -- ping-pong [--round-trips N] [--runs N]
/// [--idle-seconds N] [--only idle,block,spin,append,read]</c>. Children are started as
/// <c>SharedLog.Benchmarks ping-pong --role ROLE …</c>.
/// </remarks>
public static class PingPong
{
    /// <summary>The command name this class answers to.</summary>
    public const string Command = "ping-pong";

    /// <summary>Warm-up before timing: long enough for tiered compilation to settle (it recompiles hot methods after ~100 ms).</summary>
    private static readonly TimeSpan WarmupTime = TimeSpan.FromMilliseconds(500);

    /// <summary>Runs the benchmark, or with <c>--role</c> one of its child processes; returns the exit code.</summary>
    public static int Run(string[] args)
    {
        var options = ParseOptions(args);
        if (options.TryGetValue("role", out string? role))
        {
            return role switch
            {
                "log-echo" => LogEchoRole(options),
                "pipe-echo" => PipeEchoRole(),
                "flag-echo" => FlagEchoRole(options),
                "idle-log" => IdleLogRole(options),
                "idle-pipe" => IdlePipeRole(),
                _ => Fail($"unknown role {role}"),
            };
        }

        if (options.ContainsKey("help"))
        {
            Console.WriteLine("usage: ping-pong [--round-trips N] [--runs N] [--idle-seconds N] [--only idle,block,spin,append,read]");
            return 0;
        }

        int roundTrips = (int)Long(options, "round-trips", 20_000);
        int runs = (int)Long(options, "runs", 5);
        int idleSeconds = (int)Long(options, "idle-seconds", 2);
        var only = options.TryGetValue("only", out string? list) ? list.Split(',').ToHashSet() : ["idle", "block", "spin", "append", "read"];

        Console.WriteLine($"ping-pong: {roundTrips} timed round trips of 8-byte messages per run (after {WarmupTime.TotalMilliseconds} ms of warm-up), {runs} runs, medians of runs");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.ProcessArchitecture}");
        string directory = Path.Combine(OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"sharedlog-pingpong-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        try
        {
            if (only.Contains("idle"))
            {
                Idle(directory, idleSeconds, runs);
            }

            if (only.Contains("block"))
            {
                Compare(runs, "blocking round trip", [
                    ("log, blocking (no spin)", () => MeasureLog(directory, roundTrips, "block")),
                    ("log, async WaitAsync", () => MeasureLog(directory, roundTrips, "async")),
                    ("log, default (spin, then block)", () => MeasureLog(directory, roundTrips, "default")),
                    ("pipe (baseline)", () => MeasurePipe(roundTrips)),
                ]);
            }

            if (only.Contains("spin"))
            {
                Compare(runs, "spinning round trip", [
                    ("log, busy-spin", () => MeasureLog(directory, roundTrips * 5, "spin")),
                    ("raw shared-memory flag (baseline)", () => MeasureFlag(directory, roundTrips * 5)),
                ]);
            }

            if (only.Contains("append"))
            {
                Append(directory, runs);
            }

            if (only.Contains("read"))
            {
                Read(directory, runs);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        return 0;
    }

    private static void Compare(int runs, string title, (string Name, Func<Latency> Measure)[] cases)
    {
        Console.WriteLine();
        Console.WriteLine($"{title}:");
        var results = cases.ToDictionary(c => c.Name, _ => new List<Latency>());
        for (int run = 1; run <= runs; run++)
        {
            foreach (var (name, measure) in cases)
            {
                var latency = measure();
                results[name].Add(latency);
                Console.WriteLine($"  run {run} {name,-34} median {latency.MedianUs,8:0.00} us  p99 {latency.P99Us,8:0.00} us");
            }
        }

        var baseline = results[cases[^1].Name];
        double baseMedian = MedianOf(baseline.Select(l => l.MedianUs));
        double baseP99 = MedianOf(baseline.Select(l => l.P99Us));
        Console.WriteLine($"  summary (median of {runs} runs; ratio = figure / baseline):");
        foreach (var (name, _) in cases)
        {
            double median = MedianOf(results[name].Select(l => l.MedianUs));
            double p99 = MedianOf(results[name].Select(l => l.P99Us));
            Console.WriteLine($"    {name,-34} median {median,8:0.00} us ({median / baseMedian,5:0.00}x)  p99 {p99,8:0.00} us ({p99 / baseP99,5:0.00}x)");
        }
    }

    private static void Idle(string directory, int seconds, int runs)
    {
        Console.WriteLine();
        Console.WriteLine($"idle CPU of a process blocked {seconds} s with nothing to read (CPU ms per wall second, whole child process):");
        string[] modes = ["blocking", "async", "backoff", "pipe"];
        var results = modes.ToDictionary(m => m, _ => new List<double>());
        for (int run = 1; run <= runs; run++)
        {
            foreach (string mode in modes)
            {
                double perSecond = mode == "pipe" ? MeasureIdlePipe(seconds) : MeasureIdleLog(directory, seconds, mode);
                results[mode].Add(perSecond);
                Console.WriteLine($"  run {run} {mode,-9} {perSecond,7:0.00} CPU ms/s");
            }
        }

        Console.WriteLine($"  summary (median of {runs} runs): " + string.Join(", ", modes.Select(m => $"{m} {MedianOf(results[m]):0.00} ms/s")));
    }

    private static double MeasureIdleLog(string directory, int seconds, string mode)
    {
        string name = "idle-" + mode;
        var (writer, log) = SegmentedLog.CreateClaimed(name, new SegmentedLogOptions { Directory = directory, SegmentCapacity = 1024, RetainedCapacity = 4096 });
        using (log)
        using (writer)
        {
            using var child = StartChild(["--role", "idle-log", "--directory", directory, "--name", name, "--mode", mode, "--seconds", $"{seconds}"], stdin: false);
            ExpectLine(child, "ready");
            string line = ExpectLine(child, "cpu ");
            writer.Append(1L);
            child.WaitForExit();
            SegmentedLog.Delete(name, directory);
            return double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
        }
    }

    private static double MeasureIdlePipe(int seconds)
    {
        using var child = StartChild(["--role", "idle-pipe"], stdin: true);
        ExpectLine(child, "ready");
        Thread.Sleep(seconds * 1000);
        child.StandardInput.WriteLine("wake");
        child.StandardInput.Flush();
        string line = ExpectLine(child, "cpu ");
        child.WaitForExit();
        return double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
    }

    private static Latency MeasureLog(string directory, int roundTrips, string mode)
    {
        var options = new SegmentedLogOptions { Directory = directory, SegmentCapacity = 4096, RetainedCapacity = 16384 };
        string pingName = "ping-" + mode;
        string pongName = "pong-" + mode;
        var (writer, ping) = SegmentedLog.CreateClaimed(pingName, options);
        using var pong = SegmentedLog.Create(pongName, options);
        Latency latency;
        using (ping)
        using (writer)
        using (var reader = pong.CreateReader(ReadFrom.Oldest, Strategy(mode)))
        {
            using var child = StartChild(["--role", "log-echo", "--directory", directory, "--in", pingName, "--out", pongName, "--mode", mode], stdin: false);
            ExpectLine(child, "ready");
            latency = mode == "async"
                ? LogPingsAsync(writer, reader, roundTrips).GetAwaiter().GetResult()
                : LogPings(writer, reader, roundTrips);
            writer.Append(-1L);
            child.WaitForExit();
        }

        SegmentedLog.Delete(pingName, directory);
        SegmentedLog.Delete(pongName, directory);
        return latency;
    }

    private static Latency LogPings(LogWriter writer, LogReader reader, int roundTrips)
    {
        var samples = new long[roundTrips];
        long warmupEnd = Stopwatch.GetTimestamp() + (long)(WarmupTime.TotalSeconds * Stopwatch.Frequency);
        int timed = -1;
        for (long i = 0; timed < roundTrips; i++)
        {
            long start = Stopwatch.GetTimestamp();
            writer.Append(i);
            LogRecord record;
            while (!reader.TryRead(out record))
            {
                if (!reader.Wait(TimeSpan.FromSeconds(30)))
                {
                    throw new InvalidOperationException($"no echo of {i} within 30 s");
                }
            }

            long end = Stopwatch.GetTimestamp();
            Check(record.Read<long>(), i);
            timed = Record(samples, timed, end - start, end >= warmupEnd);
        }

        return Latency.Of(samples);
    }

    private static async Task<Latency> LogPingsAsync(LogWriter writer, LogReader reader, int roundTrips)
    {
        var samples = new long[roundTrips];
        long warmupEnd = Stopwatch.GetTimestamp() + (long)(WarmupTime.TotalSeconds * Stopwatch.Frequency);
        int timed = -1;
        for (long i = 0; timed < roundTrips; i++)
        {
            long start = Stopwatch.GetTimestamp();
            writer.Append(i);
            long echo;
            while (!TryReadLong(reader, out echo))
            {
                if (!await reader.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false))
                {
                    throw new InvalidOperationException($"no echo of {i} within 30 s");
                }
            }

            long end = Stopwatch.GetTimestamp();
            Check(echo, i);
            timed = Record(samples, timed, end - start, end >= warmupEnd);
        }

        return Latency.Of(samples);
    }

    /// <summary>Reads one record as a long (a helper, because a <see cref="LogRecord"/> cannot live across an await).</summary>
    private static bool TryReadLong(LogReader reader, out long value)
    {
        if (reader.TryRead(out var record))
        {
            value = record.Read<long>();
            return true;
        }

        value = 0;
        return false;
    }

    /// <summary>Stores a sample once warm-up is over; returns how many are stored (-1 while warming up).</summary>
    private static int Record(long[] samples, int timed, long ticks, bool warm)
    {
        if (timed < 0)
        {
            return warm ? 0 : -1;
        }

        samples[timed] = ticks;
        return timed + 1;
    }

    private static void Check(long echo, long expected)
    {
        if (echo != expected)
        {
            throw new InvalidOperationException($"echo {echo}, expected {expected}");
        }
    }

    private static Latency MeasurePipe(int roundTrips)
    {
        using var child = StartChild(["--role", "pipe-echo"], stdin: true);
        ExpectLine(child, "ready");
        var output = child.StandardInput.BaseStream;
        var input = child.StandardOutput.BaseStream;
        byte[] message = new byte[8];
        byte[] echo = new byte[8];
        var samples = new long[roundTrips];
        long warmupEnd = Stopwatch.GetTimestamp() + (long)(WarmupTime.TotalSeconds * Stopwatch.Frequency);
        int timed = -1;
        for (long i = 0; timed < roundTrips; i++)
        {
            BitConverter.TryWriteBytes(message, i);
            long start = Stopwatch.GetTimestamp();
            output.Write(message);
            output.Flush();
            input.ReadExactly(echo);
            long end = Stopwatch.GetTimestamp();
            Check(BitConverter.ToInt64(echo), i);
            timed = Record(samples, timed, end - start, end >= warmupEnd);
        }

        child.StandardInput.Close();
        child.WaitForExit();
        return Latency.Of(samples);
    }

    private static Latency MeasureFlag(string directory, int roundTrips)
    {
        string path = Path.Combine(directory, "flags");
        using (var create = new FileStream(path, FileMode.Create, FileAccess.ReadWrite))
        {
            create.SetLength(4096);
        }

        using var flags = new SharedFlags(path);
        using var child = StartChild(["--role", "flag-echo", "--path", path], stdin: false);
        ExpectLine(child, "ready");
        var samples = new long[roundTrips];
        ref long pingWord = ref flags.Word(0);
        ref long pongWord = ref flags.Word(128);
        long warmupEnd = Stopwatch.GetTimestamp() + (long)(WarmupTime.TotalSeconds * Stopwatch.Frequency);
        int timed = -1;
        for (long i = 1; timed < roundTrips; i++)
        {
            long start = Stopwatch.GetTimestamp();
            Volatile.Write(ref pingWord, i);
            while (Volatile.Read(ref pongWord) != i)
            {
                Thread.SpinWait(1);
            }

            long end = Stopwatch.GetTimestamp();
            timed = Record(samples, timed, end - start, end >= warmupEnd);
        }

        Volatile.Write(ref pingWord, -1);
        child.WaitForExit();
        File.Delete(path);
        return Latency.Of(samples);
    }

    private static void Append(string directory, int runs)
    {
        Console.WriteLine();
        Console.WriteLine("append cost with nobody waiting (16-byte payload, no readers, Evict; the notify fence and flag load are included):");
        var (writer, log) = InProcessLog("append", directory);
        using (log)
        using (writer)
        {
            byte[] payload = new byte[16];
            const int Count = 5_000_000;
            var perAppend = new List<double>();
            var perFence = new List<double>();
            long[] sink = new long[32];
            for (int run = 1; run <= runs; run++)
            {
                long allocated = GC.GetAllocatedBytesForCurrentThread();
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < Count; i++)
                {
                    writer.Append(payload);
                }

                double ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / Count;
                allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

                // The fence alone, after a store, as the notify does it (a store into a line that is already in cache).
                start = Stopwatch.GetTimestamp();
                for (int i = 0; i < Count; i++)
                {
                    Volatile.Write(ref sink[0], i);
                    Interlocked.MemoryBarrier();
                    _ = Volatile.Read(ref sink[16]);
                }

                double fence = Stopwatch.GetElapsedTime(start).TotalNanoseconds / Count;
                perAppend.Add(ns);
                perFence.Add(fence);
                Console.WriteLine($"  run {run} append {ns,6:0.00} ns   store+fence+load alone {fence,6:0.00} ns   allocated {allocated} B");
            }

            Console.WriteLine($"  summary (median of {runs} runs): append {MedianOf(perAppend):0.00} ns, store+fence+load alone {MedianOf(perFence):0.00} ns");
        }

        SegmentedLog.Delete("append", directory);
    }

    /// <summary>
    /// The cost of reading in one thread: each round appends <c>Block</c> 64-byte records and then reads them back,
    /// timed, alternately with <see cref="LogReader.TryRead"/> + <see cref="LogReader.Validate"/> per record and with
    /// <see cref="LogReader.TryReadBatch(int, out LogBatch)"/> + <c>foreach</c> + one <see cref="LogReader.Validate"/>
    /// per batch, so the records are in this core's cache (as a reader that keeps up finds them, minus the transfer).
    /// A run reports the median round of each after the first <c>Warmup</c> rounds.
    /// </summary>
    private static void Read(string directory, int runs)
    {
        const int Block = 512;
        const int Rounds = 20_000;
        const int Warmup = 4_000;
        Console.WriteLine();
        Console.WriteLine($"read cost in one thread (64-byte records, {Block} appended then read back per round; the median of {Rounds - Warmup} rounds per run):");
        var (writer, log) = InProcessLog("read", directory);
        using (log)
        using (writer)
        using (var reader = log.CreateReader(ReadFrom.Latest))
        {
            byte[] payload = new byte[64];
            var perRecord = new List<double>();
            var perBatched = new List<double>();
            long checksum = 0;
            for (int run = 1; run <= runs; run++)
            {
                var each = new List<double>(Rounds);
                var batched = new List<double>(Rounds);
                long allocated = 0;
                for (int round = 0; round < Rounds; round++)
                {
                    for (int i = 0; i < Block; i++)
                    {
                        MemoryMarshal.Write(payload, (long)i);
                        writer.Append(payload);
                    }

                    bool batch = (round & 1) != 0;
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    long start = Stopwatch.GetTimestamp();
                    int read = batch ? ReadBatches(reader, ref checksum) : ReadEach(reader, ref checksum);
                    double ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / Block;
                    allocated += GC.GetAllocatedBytesForCurrentThread() - before;
                    if (read != Block)
                    {
                        throw new InvalidOperationException($"read {read} of {Block} records");
                    }

                    if (round >= Warmup)
                    {
                        (batch ? batched : each).Add(ns);
                    }
                }

                perRecord.Add(MedianOf(each));
                perBatched.Add(MedianOf(batched));
                Console.WriteLine($"  run {run} TryRead + Validate {perRecord[^1],6:0.00} ns   TryReadBatch + foreach {perBatched[^1],6:0.00} ns per record   allocated while reading {allocated} B");
            }

            Console.WriteLine($"  summary (median of {runs} runs): TryRead + Validate {MedianOf(perRecord):0.00} ns, TryReadBatch({ReadBatchRecords}) + foreach + Validate {MedianOf(perBatched):0.00} ns per record (checksum {checksum})");
        }

        SegmentedLog.Delete("read", directory);
    }

    /// <summary>The most records a batch of the read measurement takes.</summary>
    private const int ReadBatchRecords = 1024;

    /// <summary>The log the in-process measurements use: 4,096-record segments, 16,384 records retained, <see cref="SlowReaderPolicy.Evict"/>.</summary>
    private static (LogWriter Writer, SegmentedLog Log) InProcessLog(string name, string directory)
        => SegmentedLog.CreateClaimed(name, new SegmentedLogOptions
        {
            Directory = directory,
            SegmentCapacity = 4096,
            RetainedCapacity = 16384,
            SlowReaderPolicy = SlowReaderPolicy.Evict,
        });

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ReadEach(LogReader reader, ref long checksum)
    {
        int read = 0;
        while (reader.TryRead(out var record))
        {
            checksum += MemoryMarshal.Read<long>(record.Payload) + record.TypeId;
            reader.Validate();
            read++;
        }

        return read;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ReadBatches(LogReader reader, ref long checksum)
    {
        int read = 0;
        while (reader.TryReadBatch(ReadBatchRecords, out var batch))
        {
            foreach (var record in batch)
            {
                checksum += MemoryMarshal.Read<long>(record.Payload) + record.TypeId;
                read++;
            }

            reader.Validate();
        }

        return read;
    }

    private static IdleStrategy Strategy(string mode) => mode switch
    {
        "spin" => IdleStrategy.BusySpin,
        "default" => IdleStrategy.Default,
        "backoff" => IdleStrategy.Backoff,
        _ => IdleStrategy.CreateBlocking(spinCount: 0),
    };

    private static int LogEchoRole(Dictionary<string, string> options)
    {
        string directory = options["directory"];
        string mode = options["mode"];
        using var input = SegmentedLog.Open(options["in"], directory);
        using var output = SegmentedLog.Open(options["out"], directory);
        if (!output.TryClaimWriter(out var claimed))
        {
            return Fail("could not claim the echo writer");
        }

        using var writer = claimed;
        using var reader = input.CreateReader(ReadFrom.Oldest, Strategy(mode));
        Console.WriteLine("ready");
        return mode == "async" ? EchoAsync(reader, writer).GetAwaiter().GetResult() : Echo(reader, writer);
    }

    private static int Echo(LogReader reader, LogWriter writer)
    {
        while (true)
        {
            LogRecord record;
            while (!reader.TryRead(out record))
            {
                if (!reader.Wait(TimeSpan.FromSeconds(30)))
                {
                    return Fail("no ping within 30 s");
                }
            }

            long value = record.Read<long>();
            if (value < 0)
            {
                return 0;
            }

            writer.Append(value);
        }
    }

    private static async Task<int> EchoAsync(LogReader reader, LogWriter writer)
    {
        while (true)
        {
            long value;
            while (!TryReadLong(reader, out value))
            {
                if (!await reader.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false))
                {
                    return Fail("no ping within 30 s");
                }
            }

            if (value < 0)
            {
                return 0;
            }

            writer.Append(value);
        }
    }

    private static int PipeEchoRole()
    {
        using var input = Console.OpenStandardInput();
        using var output = Console.OpenStandardOutput();
        Console.WriteLine("ready");
        Console.Out.Flush();
        byte[] message = new byte[8];
        while (true)
        {
            int read = input.ReadAtLeast(message, 8, throwOnEndOfStream: false);
            if (read < 8)
            {
                return 0;
            }

            output.Write(message);
            output.Flush();
        }
    }

    private static int FlagEchoRole(Dictionary<string, string> options)
    {
        using var flags = new SharedFlags(options["path"]);
        ref long pingWord = ref flags.Word(0);
        ref long pongWord = ref flags.Word(128);
        Console.WriteLine("ready");
        for (long i = 1; ; i++)
        {
            long ping;
            while ((ping = Volatile.Read(ref pingWord)) != i)
            {
                if (ping < 0)
                {
                    return 0;
                }

                Thread.SpinWait(1);
            }

            Volatile.Write(ref pongWord, i);
        }
    }

    private static int IdleLogRole(Dictionary<string, string> options)
    {
        using var log = SegmentedLog.Open(options["name"], options["directory"]);
        string mode = options["mode"];
        using var reader = log.CreateReader(ReadFrom.Latest, mode == "async" ? IdleStrategy.Default : Strategy(mode));
        var wait = TimeSpan.FromSeconds(Long(options, "seconds", 2));

        // Warm up the wait path so JIT compilation does not count as idling.
        _ = reader.Wait(TimeSpan.FromMilliseconds(20));
        _ = reader.WaitAsync(TimeSpan.FromMilliseconds(20)).AsTask().GetAwaiter().GetResult();
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        Console.WriteLine("ready");
        _ = mode == "async" ? reader.WaitAsync(wait).AsTask().GetAwaiter().GetResult() : reader.Wait(wait);
        double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        process.Refresh();
        double cpuMs = (process.TotalProcessorTime - cpu).TotalMilliseconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cpu {cpuMs / wall:0.000}"));
        return 0;
    }

    private static int IdlePipeRole()
    {
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        Console.WriteLine("ready");
        _ = Console.ReadLine();
        double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        process.Refresh();
        double cpuMs = (process.TotalProcessorTime - cpu).TotalMilliseconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cpu {cpuMs / wall:0.000}"));
        return 0;
    }

    private static Process StartChild(string[] args, bool stdin)
    {
        string? path = Environment.ProcessPath;
        bool viaHost = path is null || Path.GetFileNameWithoutExtension(path) == "dotnet";
        var info = new ProcessStartInfo(viaHost ? path ?? "dotnet" : path!)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardInput = stdin,
        };
        if (viaHost)
        {
            info.ArgumentList.Add(typeof(PingPong).Assembly.Location);
        }

        info.ArgumentList.Add(Command);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start the child process");
    }

    /// <summary>Reads text lines (byte by byte, so binary data after the line stays in the stream) until one starts with <paramref name="prefix"/>.</summary>
    private static string ExpectLine(Process child, string prefix)
    {
        var stream = child.StandardOutput.BaseStream;
        var line = new List<byte>();
        while (true)
        {
            int b = stream.ReadByte();
            if (b < 0)
            {
                throw new InvalidOperationException($"the child exited before printing '{prefix}'");
            }

            if (b != '\n')
            {
                line.Add((byte)b);
                continue;
            }

            string text = System.Text.Encoding.UTF8.GetString([.. line]).TrimEnd('\r');
            line.Clear();
            if (text.StartsWith(prefix, StringComparison.Ordinal))
            {
                return text;
            }
        }
    }

    private static Dictionary<string, string> ParseOptions(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                continue;
            }

            string key = args[i][2..];
            options[key] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "";
        }

        return options;
    }

    private static long Long(Dictionary<string, string> options, string key, long fallback)
        => options.TryGetValue(key, out string? value) ? long.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 1;
    }

    private readonly record struct Latency(double MedianUs, double P99Us)
    {
        public static Latency Of(long[] ticks)
        {
            Array.Sort(ticks);
            double toUs = 1_000_000.0 / Stopwatch.Frequency;
            return new Latency(ticks[ticks.Length / 2] * toUs, ticks[(int)(ticks.Length * 0.99)] * toUs);
        }
    }

    /// <summary>Two 64-bit words in a shared file, for the raw flag baseline. The view stays mapped until disposed.</summary>
    private sealed class SharedFlags : IDisposable
    {
        private readonly MemoryMappedFile _file;
        private readonly MemoryMappedViewAccessor _view;
        private readonly nint _address;

        public SharedFlags(string path)
        {
            _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 4096, MemoryMappedFileAccess.ReadWrite);
            _view = _file.CreateViewAccessor(0, 4096, MemoryMappedFileAccess.ReadWrite);
            _address = _view.SafeMemoryMappedViewHandle.DangerousGetHandle() + (nint)_view.PointerOffset;
        }

        /// <summary>A reference to the word at <paramref name="offset"/>, made without pointer types (this project has no unsafe code).</summary>
        public ref long Word(int offset) => ref Unsafe.AddByteOffset(ref Unsafe.NullRef<long>(), _address + offset);

        public void Dispose()
        {
            _view.Dispose();
            _file.Dispose();
        }
    }
}
