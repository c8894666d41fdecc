using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace SharedLog.Benchmarks.CrossProcess;

/// <summary>
/// <c>bench ring-throughput</c>: bulk bytes from this process to a reader process through a <see cref="ByteRing"/>,
/// through an anonymous pipe (the child's stdin) and through a Unix domain socket, in the same run, interleaved so
/// every transport sees the same machine load. Writes are <c>--message</c> bytes (64 KiB by default); the reader
/// reads into a buffer of the same size, so each transport copies every byte in and out once.
/// </summary>
/// <remarks>
/// The figure is bytes delivered divided by the time from the writer's first write to the reader's last byte (both
/// clocks are <see cref="Stopwatch.GetTimestamp"/>, which is system-wide), so child start-up is not counted. The ring
/// runs under <see cref="SlowReaderPolicy.Block"/> (lossless) and the reader checks it lost nothing. Waiting is the
/// ring's current strategy (spin, yield, then sleep), not yet futex wake-ups.
/// Invocation: <c>dotnet run -c Release --project SharedLog.Benchmarks -- ring-throughput [--bytes N] [--message N]
/// [--capacity N] [--runs N] [--transports ring,pipe,uds]</c>. Children are started as
/// <c>SharedLog.Benchmarks ring-throughput --role ROLE …</c>.
/// </remarks>
public static class RingThroughput
{
    /// <summary>The command name this class answers to.</summary>
    public const string Command = "ring-throughput";

    /// <summary>Runs the benchmark, or with <c>--role</c> one of its child processes; returns the exit code.</summary>
    public static int Run(string[] args)
    {
        var options = ParseOptions(args);
        if (options.TryGetValue("role", out string? role))
        {
            return role switch
            {
                "ring-reader" => RingReaderRole(options),
                "pipe-reader" => PipeReaderRole(options),
                "uds-reader" => SocketReaderRole(options),
                _ => Fail($"unknown role {role}"),
            };
        }

        if (options.ContainsKey("help"))
        {
            Console.WriteLine("usage: ring-throughput [--bytes N] [--message N] [--capacity N] [--runs N] [--transports ring,pipe,uds]");
            return 0;
        }

        long bytes = Long(options, "bytes", 1L << 30);
        int message = (int)Long(options, "message", 64 * 1024);
        int capacity = (int)Long(options, "capacity", 1 << 20);
        int runs = (int)Long(options, "runs", 3);
        string[] transports = options.TryGetValue("transports", out string? list) ? list.Split(',') : ["ring", "pipe", "uds"];

        Console.WriteLine($"ring-throughput: {Format(bytes)} per run in {Format(message)} writes, ring capacity {Format(capacity)}, {runs} runs");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
        var results = transports.ToDictionary(t => t, _ => new List<Result>());
        for (int run = 1; run <= runs; run++)
        {
            foreach (string transport in transports)
            {
                var result = transport switch
                {
                    "ring" => MeasureRing(bytes, message, capacity),
                    "pipe" => MeasurePipe(bytes, message),
                    "uds" => MeasureSocket(bytes, message),
                    _ => throw new ArgumentException($"unknown transport {transport}"),
                };
                results[transport].Add(result);
                Console.WriteLine($"run {run} {transport,-5} {result.GigabytesPerSecond,6:0.000} GB/s  writer alloc {result.WriterAllocated} B  reader alloc {result.ReaderAllocated} B");
            }
        }

        double Median(string transport)
        {
            var sorted = results[transport].Select(r => r.GigabytesPerSecond).Order().ToArray();
            return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
        }

        double? ring = results.ContainsKey("ring") ? Median("ring") : null;
        foreach (string transport in transports)
        {
            double median = Median(transport);
            string ratio = ring is { } r && transport != "ring" ? $" | ring/{transport} {r / median:0.00}x" : "";
            Console.WriteLine($"summary: ring-throughput {Format(message)} writes | {transport} median {median:0.000} GB/s{ratio}");
        }

        return 0;
    }

    private static Result MeasureRing(long bytes, int message, int capacity)
    {
        string directory = OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string name = $"ring-throughput-{Environment.ProcessId}-{Guid.NewGuid():N}";
        var (writer, ring) = ByteRing.CreateClaimed(name, new ByteRingOptions
        {
            Capacity = capacity,
            SlowReaderPolicy = SlowReaderPolicy.Block,
            SlowReaderTimeout = TimeSpan.FromMinutes(10),
            Directory = directory,
        });
        try
        {
            using var child = StartChild(["--role", "ring-reader", "--name", name, "--directory", directory, "--bytes", $"{bytes}", "--message", $"{message}"], stdin: false);
            ExpectLine(child, "ready");
            byte[] data = Payload(message);
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            long start = Stopwatch.GetTimestamp();
            using (writer)
            {
                for (long sent = 0; sent < bytes;)
                {
                    var chunk = data.AsSpan(0, (int)Math.Min(message, bytes - sent));
                    while (!chunk.IsEmpty)
                    {
                        int written = writer.Write(chunk);
                        if (written == 0)
                        {
                            writer.WaitForSpace(Timeout.InfiniteTimeSpan);
                        }

                        chunk = chunk[written..];
                        sent += written;
                    }
                }

                writer.Complete();
            }

            long writerAllocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            return Finish(child, bytes, start, writerAllocated);
        }
        finally
        {
            ring.Dispose();
            ByteRing.Delete(name, directory);
        }
    }

    private static Result MeasurePipe(long bytes, int message)
    {
        using var child = StartChild(["--role", "pipe-reader", "--bytes", $"{bytes}", "--message", $"{message}"], stdin: true);
        ExpectLine(child, "ready");
        byte[] data = Payload(message);
        var pipe = child.StandardInput.BaseStream;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        for (long sent = 0; sent < bytes; sent += message)
        {
            pipe.Write(data, 0, (int)Math.Min(message, bytes - sent));
        }

        pipe.Flush();
        long writerAllocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var result = Finish(child, bytes, start, writerAllocated);
        child.StandardInput.Close();
        return result;
    }

    private static Result MeasureSocket(long bytes, int message)
    {
        string path = Path.Combine(Path.GetTempPath(), $"ring-throughput-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        try
        {
            using var child = StartChild(["--role", "uds-reader", "--path", path, "--bytes", $"{bytes}", "--message", $"{message}"], stdin: false);
            using var socket = listener.Accept();
            ExpectLine(child, "ready");
            byte[] data = Payload(message);
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            long start = Stopwatch.GetTimestamp();
            for (long sent = 0; sent < bytes;)
            {
                sent += socket.Send(data, 0, (int)Math.Min(message, bytes - sent), SocketFlags.None);
            }

            long writerAllocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            return Finish(child, bytes, start, writerAllocated);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static int RingReaderRole(Dictionary<string, string> options)
    {
        long bytes = Long(options, "bytes", 0);
        var buffer = new byte[(int)Long(options, "message", 64 * 1024)];
        using var ring = ByteRing.Open(options["name"], options["directory"]);
        using var reader = ring.CreateReader(ReadFrom.Oldest);
        Console.WriteLine("ready");
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long received = 0;
        while (true)
        {
            int read = reader.Read(buffer);
            if (read > 0)
            {
                received += read;
                continue;
            }

            if (reader.IsCompleted)
            {
                break;
            }

            reader.Wait(Timeout.InfiniteTimeSpan);
        }

        long end = Stopwatch.GetTimestamp();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        if (received != bytes || reader.LostBytes != 0)
        {
            return Fail($"ring reader received {received} of {bytes} bytes and lost {reader.LostBytes}");
        }

        Console.WriteLine(FormattableString.Invariant($"done {received} {end} {allocated}"));
        return 0;
    }

    private static int PipeReaderRole(Dictionary<string, string> options)
    {
        long bytes = Long(options, "bytes", 0);
        var buffer = new byte[(int)Long(options, "message", 64 * 1024)];
        using var input = Console.OpenStandardInput();
        Console.WriteLine("ready");
        return Drain(input.Read, bytes, buffer);
    }

    private static int SocketReaderRole(Dictionary<string, string> options)
    {
        long bytes = Long(options, "bytes", 0);
        var buffer = new byte[(int)Long(options, "message", 64 * 1024)];
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(options["path"]));
        Console.WriteLine("ready");
        return Drain(span => socket.Receive(span), bytes, buffer);
    }

    private static int Drain(ReadSpan read, long bytes, byte[] buffer)
    {
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long received = 0;
        while (received < bytes)
        {
            int n = read(buffer);
            if (n == 0)
            {
                break;
            }

            received += n;
        }

        long end = Stopwatch.GetTimestamp();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        if (received != bytes)
        {
            return Fail($"reader received {received} of {bytes} bytes");
        }

        Console.WriteLine(FormattableString.Invariant($"done {received} {end} {allocated}"));
        return 0;
    }

    private static Result Finish(Process child, long bytes, long start, long writerAllocated)
    {
        string done = ExpectLine(child, "done");
        if (!child.WaitForExit(60_000) || child.ExitCode != 0)
        {
            throw new InvalidOperationException($"reader child failed (exit {(child.HasExited ? child.ExitCode : -1)})");
        }

        string[] parts = done.Split(' ');
        long end = long.Parse(parts[2], CultureInfo.InvariantCulture);
        double seconds = (double)(end - start) / Stopwatch.Frequency;
        return new Result(bytes / seconds / 1e9, writerAllocated, long.Parse(parts[3], CultureInfo.InvariantCulture));
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
            info.ArgumentList.Add("exec");
            info.ArgumentList.Add(typeof(RingThroughput).Assembly.Location);
        }

        info.ArgumentList.Add(Command);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("could not start a child process");
    }

    private static string ExpectLine(Process child, string prefix)
    {
        while (child.StandardOutput.ReadLine() is { } line)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line;
            }

            Console.WriteLine($"  child: {line}");
        }

        child.WaitForExit(10_000);
        throw new InvalidOperationException($"the reader child exited ({(child.HasExited ? child.ExitCode : -1)}) before printing '{prefix}'");
    }

    private static byte[] Payload(int length)
    {
        var data = new byte[length];
        new Random(42).NextBytes(data);
        return data;
    }

    private static Dictionary<string, string> ParseOptions(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected argument '{args[i]}'");
            }

            string key = args[i][2..];
            options[key] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "";
        }

        return options;
    }

    private static long Long(Dictionary<string, string> options, string key, long fallback)
        => options.TryGetValue(key, out string? value) ? long.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static string Format(long bytes)
        => bytes >= 1 << 30 && bytes % (1 << 30) == 0 ? $"{bytes >> 30} GiB"
            : bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? $"{bytes >> 20} MiB"
            : bytes >= 1 << 10 && bytes % (1 << 10) == 0 ? $"{bytes >> 10} KiB"
            : $"{bytes} B";

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 1;
    }

    private delegate int ReadSpan(Span<byte> buffer);

    /// <summary>One measurement: throughput and what each side's loop allocated.</summary>
    private sealed record Result(double GigabytesPerSecond, long WriterAllocated, long ReaderAllocated);
}
