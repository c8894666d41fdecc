using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.CompilerServices;
using SharedLog.Benchmarks.CrossProcess;

namespace SharedLog.Benchmarks.Suite;

/// <summary>
/// Bulk throughput of SharedLog's byte ring and the raw ring between the same two processes (<c>ring-paired</c>): the
/// writer sends a burst of 256 KiB through one, waits until the reader has checked all of it, then does the same
/// through the other, and so on; each transport's figure is its bytes over the time its bursts took, from the first
/// write to the reader's receipt of the last byte.
/// </summary>
/// <remarks>
/// The two alternate every few hundred microseconds, so both see the same placement of the two CPUs and the same
/// state of the host, and their ratio stays readable on a machine where a run's absolute rate moves by 4x between
/// runs. A burst is a quarter of either ring, so the writer never waits for space inside one; the reader copies into a
/// 64 KiB buffer and checks every byte against the pattern, as in the unpaired bulk runs. Both readers spin while they
/// wait (the byte ring's with <see cref="IdleStrategy.BusySpin"/>, whatever <c>--reader-idle</c> says), so the ratio
/// compares the data paths, not the idle strategies.
/// </remarks>
internal static class PairedBulkRoles
{
    private const int Capacity = 1 << 20;
    private const int BurstBytes = 256 << 10;

    public static int Writer(RoleSettings settings)
    {
        using var control = Control.Create(settings.ControlPath);
        var (writer, ring) = ByteRing.CreateClaimed("transport", new ByteRingOptions
        {
            Capacity = Capacity,
            SlowReaderPolicy = SlowReaderPolicy.Block,
            SlowReaderTimeout = TimeSpan.FromSeconds(30),
            Directory = settings.Directory,
        });
        ISender[] senders = [new RingSender(writer, ring), new RawSender(RawRing.Create(RawPath(settings), Capacity, 1))];
        using var owned = new Owned(senders);
        using var reader = SelfProcess.Start(["suite", "--role", "reader", "--index", "0", .. settings.ToArgs()], settings.FollowerCpu);
        if (reader.StandardOutput.ReadLine() != "ready")
        {
            throw new InvalidOperationException("the reader process did not start");
        }

        int count = BurstBytes / settings.Size;
        var positions = new long[2];
        var ticks = new long[2];
        var bytes = new long[2];
        var warmup = settings.NewWarmup();
        long giveUp = Stopwatch.GetTimestamp() + (long)((settings.WarmupMaximum.TotalSeconds * 2 + 5) * Stopwatch.Frequency);
        while (true)
        {
            // Whole pairs here too: the reader expects the transports strictly in turn.
            Burst(senders[0], control, 0, ref positions[0], settings.Size, count, out _);
            long now = Burst(senders[1], control, 1, ref positions[1], settings.Size, count, out _);
            if (warmup.Poll(now) && control.AllWarm(1))
            {
                break;
            }

            if (now > giveUp)
            {
                throw new TimeoutException("the reader did not end its warm-up");
            }
        }

        long preempted = SelfProcess.Preemptions();
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        long jitBefore = JitInfo.GetCompiledMethodCount();
        long deadline = Stopwatch.GetTimestamp() + (long)(settings.Seconds * Stopwatch.Frequency);
        long end;
        do
        {
            // Whole pairs, so both transports get the same number of bursts.
            for (int s = 0; s < 2; s++)
            {
                long before = positions[s];
                Burst(senders[s], control, s, ref positions[s], settings.Size, count, out long elapsed);
                ticks[s] += elapsed;
                bytes[s] += positions[s] - before;
            }

            end = Stopwatch.GetTimestamp();
        }
        while (end < deadline);

        long jitDuring = JitInfo.GetCompiledMethodCount() - jitBefore;
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        preempted = SelfProcess.Preemptions() - preempted;
        control.EndPosition = 1;
        long writes = (bytes[0] + bytes[1]) / settings.Size;
        for (int s = 0; s < 2; s++)
        {
            double seconds = ticks[s] / (double)Stopwatch.Frequency;
            Console.WriteLine(Fields.Line(s == 0 ? "lead" : "pair",
            [
                ("gbs", (bytes[s] / seconds / 1e9).ToString("0.####", CultureInfo.InvariantCulture)), ("bytes", bytes[s]), ("total", positions[s]),
                ("alloc_per_op", ((double)allocated / Math.Max(1, writes)).ToString("0.###", CultureInfo.InvariantCulture)),
                ("jit_in_window", jitDuring), ("preempted", preempted), ("cpus", SelfProcess.ThreadCpus()), .. warmup.Fields(""),
            ]));
        }

        foreach (string line in SelfProcess.Finish(reader, TimeSpan.FromMinutes(1)))
        {
            Console.WriteLine(line);
        }

        return 0;
    }

    public static int Reader(RoleSettings settings)
    {
        using var control = Control.Open(settings.ControlPath);
        var ring = ByteRing.Open("transport", settings.Directory);
        IReceiver[] receivers =
        [
            // Busy-spinning, as the raw ring's reader waits (spin, then yield): each burst starts with the reader
            // waiting, and a reader that slept there would add a futex wake-up per burst to the byte ring's figure.
            new RingReceiver(ring, ring.CreateReader(ReadFrom.Oldest, IdleStrategy.BusySpin)),
            new RawReceiver(RawRing.Open(RawPath(settings), 1), 0, 1),
        ];
        using var owned = new Owned(receivers);
        Console.WriteLine("ready");
        Console.Out.Flush();

        Tally[] tallies = [new(control, bulk: true), new(control, bulk: true)];
        var warmup = settings.NewWarmup();
        long allocatedAtWarm = 0;
        long jitAtWarm = 0;
        long preemptedAtWarm = 0;
        long readsAtWarm = 0;
        for (long burst = 0; ; burst++)
        {
            int s = (int)(burst & 1);
            long target = (burst / 2 + 1) * BurstBytes;
            long lastProgress = Stopwatch.GetTimestamp();
            while (tallies[s].Next < target)
            {
                long now = Stopwatch.GetTimestamp();
                if (receivers[s].Receive(ref tallies[s]) > 0)
                {
                    lastProgress = now;
                }
                else if (control.EndPosition != Control.Unset)
                {
                    goto Done;
                }
                else if (now - lastProgress > 30 * Stopwatch.Frequency)
                {
                    throw new TimeoutException($"paired reader: nothing for 30 s at position {tallies[s].Next} of transport {s}");
                }
            }

            // Release: the writer times the burst up to here and starts the next one.
            control.SetConsumed(s, tallies[s].Next);
            if (!warmup.Done && warmup.Poll(Stopwatch.GetTimestamp()))
            {
                control.SetWarmStatus(0, warmup.Status);
                preemptedAtWarm = SelfProcess.Preemptions();
                allocatedAtWarm = GC.GetAllocatedBytesForCurrentThread();
                jitAtWarm = JitInfo.GetCompiledMethodCount();
                readsAtWarm = tallies[0].Next + tallies[1].Next;
            }
        }

    Done:
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedAtWarm;
        long read = tallies[0].Next + tallies[1].Next - readsAtWarm;
        Console.WriteLine(Fields.Line("reader0",
        [
            ("bad", tallies[0].Bad + tallies[1].Bad), ("total0", tallies[0].Next), ("total1", tallies[1].Next),
            ("alloc_per_op", ((double)allocated / Math.Max(1, read / settings.Size)).ToString("0.###", CultureInfo.InvariantCulture)),
            ("jit_after_warm", JitInfo.GetCompiledMethodCount() - jitAtWarm), ("preempted", SelfProcess.Preemptions() - preemptedAtWarm),
            ("cpus", SelfProcess.ThreadCpus()), .. warmup.Fields(""),
        ]));
        return 0;
    }

    /// <summary>
    /// Sends <paramref name="count"/> writes through transport <paramref name="side"/> and waits until the reader has
    /// checked them; returns the clock after that, with the burst's duration in <paramref name="elapsed"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long Burst(ISender sender, Control control, int side, ref long position, int size, int count, out long elapsed)
    {
        long start = Stopwatch.GetTimestamp();
        sender.SendBytes(position, size, count);
        position += (long)size * count;
        long giveUp = start + 30 * Stopwatch.Frequency;
        long now;
        while (control.Consumed(side) < position)
        {
            now = Stopwatch.GetTimestamp();
            if (now > giveUp)
            {
                throw new TimeoutException($"the paired reader did not confirm transport {side} up to {position} within 30 s");
            }
        }

        now = Stopwatch.GetTimestamp();
        elapsed = now - start;
        return now;
    }

    private static string RawPath(RoleSettings settings) => Path.Combine(settings.Directory, "raw");
}
