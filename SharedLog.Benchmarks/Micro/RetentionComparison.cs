using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace SharedLog.Benchmarks.Micro;

/// <summary>
/// <c>bench retention</c>: the in-process cost of Append (64 B) and of <see cref="LogSnapshot.TryGet"/> under
/// <see cref="LogRetention.Unbounded"/> beside <see cref="LogRetention.Window"/>, in the same run, rounds interleaved.
/// Unbounded appends include the file's growth (posix_fallocate and a new view per extent), amortised.
/// </summary>
public static class RetentionComparison
{
    public static int Run(string[] args)
    {
        int records = Option(args, "--records", 2_000_000);
        int rounds = Option(args, "--rounds", 5);
        var append = new Dictionary<LogRetention, List<double>> { [LogRetention.Window] = [], [LogRetention.Unbounded] = [] };
        var get = new Dictionary<string, List<double>>();
        long allocated = 0;
        var payload = new byte[64];
        for (int round = 0; round < rounds; round++)
        {
            foreach (var retention in new[] { LogRetention.Window, LogRetention.Unbounded })
            {
                string root = OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
                string directory = Path.Combine(root, "sharedlog-retention-" + Guid.NewGuid().ToString("N")[..8]);
                Directory.CreateDirectory(directory);
                try
                {
                    var (writer, log) = SegmentedLog.CreateClaimed("bench", new SegmentedLogOptions
                    {
                        SegmentCapacity = 4096,
                        RetainedCapacity = 1 << 16,
                        SlowReaderPolicy = SlowReaderPolicy.Evict,
                        Retention = retention,
                        MaxBytes = retention == LogRetention.Unbounded ? 8L << 30 : 0,
                        Directory = directory,
                    });
                    using (log)
                    using (writer)
                    {
                        long before = GC.GetAllocatedBytesForCurrentThread();
                        long start = Stopwatch.GetTimestamp();
                        for (int i = 0; i < records; i++)
                        {
                            payload[0] = (byte)i;
                            writer.Append(payload);
                        }

                        append[retention].Add(Stopwatch.GetElapsedTime(start).TotalNanoseconds / records);
                        allocated += GC.GetAllocatedBytesForCurrentThread() - before;

                        using var snapshot = log.Snapshot();
                        Measure(get, $"{retention} TryGet, last 64 Ki records", snapshot, Math.Max(snapshot.FirstSequence, snapshot.NextSequence - (1 << 16)), records, ref allocated);
                        if (retention == LogRetention.Unbounded)
                        {
                            Measure(get, $"{retention} TryGet, all {records} records", snapshot, snapshot.FirstSequence, records, ref allocated);
                        }
                    }
                }
                finally
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
        }

        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}; {records} records of 64 B per round, {rounds} rounds interleaved, medians");
        double window = Median(append[LogRetention.Window]);
        double unbounded = Median(append[LogRetention.Unbounded]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Append 64 B   Window {window:F1} ns   Unbounded {unbounded:F1} ns   ratio {unbounded / window:F2}"));
        string baseline = $"{LogRetention.Window} TryGet, last 64 Ki records";
        foreach (var (name, values) in get)
        {
            double median = Median(values);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-40} {median:F1} ns   ratio to Window {median / Median(get[baseline]):F2}"));
        }

        Console.WriteLine($"allocated on the measuring thread in the timed loops: {allocated} bytes");
        return 0;
    }

    private static void Measure(Dictionary<string, List<double>> results, string name, LogSnapshot snapshot, long from, int lookups, ref long allocated)
    {
        var random = new Random(1);
        long[] sequences = new long[lookups];
        for (int i = 0; i < lookups; i++)
        {
            sequences[i] = random.NextInt64(from, snapshot.NextSequence);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        long sum = 0;
        long start = Stopwatch.GetTimestamp();
        foreach (long sequence in sequences)
        {
            snapshot.TryGet(sequence, out var record);
            sum += record.Payload[0];
        }

        double ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / lookups;
        allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        GC.KeepAlive(sum);
        if (!results.TryGetValue(name, out var list))
        {
            results[name] = list = [];
        }

        list.Add(ns);
    }

    private static int Option(string[] args, string name, int fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
