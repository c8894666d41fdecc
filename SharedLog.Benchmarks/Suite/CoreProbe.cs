using System.Diagnostics;

namespace SharedLog.Benchmarks.Suite;

/// <summary>
/// The cross-core round trip of this moment: two threads of this process, pinned to the two cores the benchmark
/// pins its processes to, bounce a counter between two cache lines. A VM's vCPUs can move between physical cores
/// (or share one's hyperthreads) every few minutes, which moves every cross-core figure; the probe, run just before
/// and just after each measurement, says which placement the figure was taken on.
/// </summary>
/// <remarks>
/// Round trips are timed in batches of <see cref="Batch"/> (one clock read per batch); the probe reports the median
/// batch divided by its size. It takes a few milliseconds and runs while no benchmark process is running.
/// </remarks>
public static class CoreProbe
{
    private const int Batch = 100;
    private const int Batches = 200;
    private const int WarmupBatches = 20;

    /// <summary>Median nanoseconds per round trip between <paramref name="cpuA"/> and <paramref name="cpuB"/>, or NaN when it cannot run.</summary>
    public static double RoundTripNanoseconds(int cpuA, int cpuB)
    {
        if (!OperatingSystem.IsLinux() || Environment.ProcessorCount < 2 || Math.Max(cpuA, cpuB) >= Environment.ProcessorCount)
        {
            return double.NaN;
        }

        // Two words 128 bytes apart (their own lines, and apart from the adjacent-line prefetcher's pair).
        long[] words = new long[64];
        const int Ping = 16;
        const int Pong = 48;
        bool pinned = true;
        var echo = new Thread(() =>
        {
            pinned &= Native.PinCurrentThread(cpuB);
            for (long i = 1; ; i++)
            {
                long ping;
                while ((ping = Volatile.Read(ref words[Ping])) != i)
                {
                    if (ping < 0)
                    {
                        return;
                    }
                }

                Volatile.Write(ref words[Pong], i);
            }
        })
        { IsBackground = true, Name = "core probe echo" };

        double[] perRoundTrip = new double[Batches];
        var driver = new Thread(() =>
        {
            pinned &= Native.PinCurrentThread(cpuA);
            long deadline = Stopwatch.GetTimestamp() + 2 * Stopwatch.Frequency;
            long i = 0;
            for (int b = -WarmupBatches; b < Batches; b++)
            {
                long start = Stopwatch.GetTimestamp();
                for (int k = 0; k < Batch; k++)
                {
                    i++;
                    Volatile.Write(ref words[Ping], i);
                    while (Volatile.Read(ref words[Pong]) != i)
                    {
                    }
                }

                long end = Stopwatch.GetTimestamp();
                if (b >= 0)
                {
                    perRoundTrip[b] = (end - start) * 1e9 / Stopwatch.Frequency / Batch;
                }

                if (end > deadline)
                {
                    perRoundTrip = perRoundTrip[..Math.Max(0, b)];
                    break;
                }
            }

            Volatile.Write(ref words[Ping], -1);
        })
        { Name = "core probe driver" };

        echo.Start();
        driver.Start();
        driver.Join();
        echo.Join();
        return pinned && perRoundTrip.Length > 0 ? CrossProcess.Statistics.Median(perRoundTrip) : double.NaN;
    }
}
