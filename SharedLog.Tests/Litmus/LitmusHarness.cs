using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Xunit.Abstractions;

namespace SharedLog.Tests.Litmus;

/// <summary>
/// A small jcstress: two actor threads run the same batch of iterations, each iteration on its own fresh, zeroed
/// memory (every field on its own 128-byte line of unmanaged memory), and each actor returns what it observed.
/// Both threads start every batch together from a spinning barrier, so iteration i of one actor runs at nearly the
/// same instant as iteration i of the other and races are frequent. Outcomes are tallied as (first, second) pairs.
/// </summary>
internal static unsafe class LitmusHarness
{
    /// <summary>Every field lives on its own line, as the hot fields of the mapping do.</summary>
    public const int LineLength = 128;

    private const int Batch = 1024;

    /// <summary>One actor: reads and writes the iteration's fields and returns what it observed.</summary>
    public delegate int Actor(byte* state);

    /// <summary>Field <paramref name="index"/> of an iteration's state.</summary>
    public static long* Long(byte* state, int index) => (long*)(state + (index * LineLength));

    /// <summary>Field <paramref name="index"/> of an iteration's state, as a 32-bit word.</summary>
    public static int* Int(byte* state, int index) => (int*)(state + (index * LineLength));

    /// <summary>
    /// Runs <paramref name="iterations"/> races of <paramref name="first"/> against <paramref name="second"/> over
    /// <paramref name="fields"/> fields per iteration, prints the outcome table and the rate, and returns the tally.
    /// </summary>
    public static Dictionary<(int First, int Second), long> Run(
        ITestOutputHelper output,
        string title,
        int fields,
        int iterations,
        Actor first,
        Actor second,
        Func<int, int, string> verdict)
    {
        int batches = Math.Max(1, iterations / Batch);
        nuint stateLength = (nuint)(fields * LineLength);
        nuint length = stateLength * Batch;
        byte* memory = (byte*)NativeMemory.AlignedAlloc(length, LineLength);
        var results1 = new int[Batch];
        var results2 = new int[Batch];
        var tally = new Dictionary<(int, int), long>();
        var barrier = new SpinBarrier(2);
        try
        {
            NativeMemory.Clear(memory, length);
            var stopwatch = Stopwatch.StartNew();
            var other = new Thread(() => Loop(second, results2, memory, stateLength, batches, barrier, null)) { IsBackground = true };
            other.Start();
            Loop(first, results1, memory, stateLength, batches, barrier, () =>
            {
                for (int i = 0; i < Batch; i++)
                {
                    var key = (results1[i], results2[i]);
                    tally[key] = tally.GetValueOrDefault(key) + 1;
                }

                NativeMemory.Clear(memory, length);
            });
            other.Join();
            stopwatch.Stop();

            Print(output, title, tally, (long)batches * Batch, stopwatch.Elapsed, verdict);
            return tally;
        }
        finally
        {
            NativeMemory.AlignedFree(memory);
        }
    }

    /// <summary>
    /// Like <see cref="Run"/>, for actors of very different lengths (one makes a system call): both actors meet at a
    /// barrier before every iteration, and <paramref name="first"/> then waits a delay that sweeps
    /// 0..<paramref name="maxDelaySpins"/> spin-waits, so its short sequence lands at every point of the other's long
    /// one. A batch race would let the fast actor finish long before the slow one starts each iteration.
    /// </summary>
    public static Dictionary<(int First, int Second), long> RunInStep(
        ITestOutputHelper output,
        string title,
        int fields,
        int iterations,
        int maxDelaySpins,
        Actor first,
        Actor second,
        Func<int, int, string> verdict)
    {
        nuint stateLength = (nuint)(fields * LineLength);
        byte* memory = (byte*)NativeMemory.AlignedAlloc(stateLength, LineLength);
        var results1 = new int[iterations];
        var results2 = new int[iterations];
        var barrier = new SpinBarrier(2);
        try
        {
            NativeMemory.Clear(memory, stateLength);
            var stopwatch = Stopwatch.StartNew();
            var other = new Thread(() =>
            {
                for (int i = 0; i < iterations; i++)
                {
                    barrier.SignalAndWait();
                    results2[i] = second(memory);
                    barrier.SignalAndWait();
                    barrier.SignalAndWait();
                }
            }) { IsBackground = true };
            other.Start();
            for (int i = 0; i < iterations; i++)
            {
                barrier.SignalAndWait();
                int delay = (int)((uint)(i * 37) % (uint)(maxDelaySpins + 1));
                for (int k = 0; k < delay; k++)
                {
                    Thread.SpinWait(1);
                }

                results1[i] = first(memory);
                barrier.SignalAndWait();

                // Fresh, zeroed fields for the next iteration while the other actor waits.
                NativeMemory.Clear(memory, stateLength);
                barrier.SignalAndWait();
            }

            other.Join();
            stopwatch.Stop();
            var tally = new Dictionary<(int, int), long>();
            for (int i = 0; i < iterations; i++)
            {
                var key = (results1[i], results2[i]);
                tally[key] = tally.GetValueOrDefault(key) + 1;
            }

            Print(output, title, tally, iterations, stopwatch.Elapsed, verdict);
            return tally;
        }
        finally
        {
            NativeMemory.AlignedFree(memory);
        }
    }

    private static void Print(
        ITestOutputHelper output, string title, Dictionary<(int, int), long> tally, long total, TimeSpan elapsed, Func<int, int, string> verdict)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{title}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  {"outcome",-10} {"count",14} {"share",9}  verdict");
        foreach (var ((a, b), count) in tally.OrderBy(kv => kv.Key))
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {$"({a}, {b})",-10} {count,14:N0} {100.0 * count / total,8:F4}%  {verdict(a, b)}");
        }

        text.Append(CultureInfo.InvariantCulture,
            $"  {total:N0} iterations in {elapsed.TotalSeconds:F2} s: {total / elapsed.TotalSeconds / 1e6:F2} M iterations/s");
        output.WriteLine(text.ToString());
    }

    private static void Loop(Actor actor, int[] results, byte* memory, nuint stateLength, int batches, SpinBarrier barrier, Action? between)
    {
        for (int batch = 0; batch < batches; batch++)
        {
            barrier.SignalAndWait();
            byte* state = memory;
            for (int i = 0; i < Batch; i++)
            {
                results[i] = actor(state);
                state += stateLength;
            }

            barrier.SignalAndWait();
            between?.Invoke();
        }
    }

    /// <summary>A barrier that spins (and yields), so both actors leave it within a few hundred nanoseconds.</summary>
    private sealed class SpinBarrier(int parties)
    {
        private int _arrived;
        private volatile int _phase;

        public void SignalAndWait()
        {
            int phase = _phase;
            if (Interlocked.Increment(ref _arrived) == parties)
            {
                _arrived = 0;
                _phase = phase + 1;
                return;
            }

            var spin = default(SpinWait);
            while (_phase == phase)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }
    }
}
