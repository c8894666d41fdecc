using System.Diagnostics;
using System.Globalization;
using System.IO.Pipes;
using System.Runtime;
using System.Runtime.CompilerServices;
using SharedLog.Benchmarks.CrossProcess;

namespace SharedLog.Benchmarks.Suite;

/// <summary>
/// Throughput of a SharedLog transport and its baselines between the same two processes, in turns: the writer sends
/// a burst through one transport, waits until the reader has checked all of it, then does the same through the next,
/// and so on; each transport's figure is what it carried over the time its bursts took, from the first write to the
/// reader's confirmation of the last.
/// </summary>
/// <remarks>
/// <para>
/// <c>ring-paired</c> (bulk): the byte ring, the raw ring, an anonymous pipe written through a 64 KiB buffer
/// (flushed at the end of each burst), and a second byte ring whose reader batches its reads
/// (<see cref="RingReader.Read(Span{byte}, int, TimeSpan)"/>, <c>ring-batch-paired</c>); bursts of 256 KiB (a quarter
/// of either ring, so the writer never waits for space inside one), the reader copying into a 64 KiB buffer and
/// checking every byte against the pattern. <c>log-paired</c> (messages): the log, the raw ring, an anonymous pipe
/// written through a 64 KiB buffer (flushed at the end of each burst), and a second log whose reader takes lingering
/// batches (<see cref="LogReader.TryReadBatch(int, int, TimeSpan, out LogBatch)"/>, <c>log-linger-paired</c>); bursts
/// of 1 MiB of messages, every message checked.
/// </para>
/// <para>
/// The transports take turns every few hundred microseconds, so all see the same placement of the two CPUs and the
/// same state of the host, and their ratios stay readable on a machine where a run's absolute rate moves by 4x between
/// runs. In <c>ring-paired</c> the byte ring's reader busy-spins while it waits (whatever <c>--reader-idle</c> says), as
/// the raw ring's does, so the ratio compares the data paths, not the idle strategies. In <c>log-paired</c> the log's
/// reader idles by <c>--reader-idle</c> (default: the library's default), as in the unpaired throughput runs, because
/// its main baseline, the pipe's reader, sleeps in <c>read</c> too; the raw ring's reader spins, then yields.
/// </para>
/// </remarks>
internal static class PairedRoles
{
    private const int RingCapacity = 1 << 20;
    private const int RawMessageCapacity = 4 << 20;

    public static bool Handles(string transport) => transport is "ring-paired" or "log-paired";

    public static int Writer(RoleSettings settings)
    {
        using var control = Control.Create(settings.ControlPath);
        var senders = CreateSenders(settings, out var pipe);
        using var owned = new Owned(senders);
        List<string> readerArgs = ["suite", "--role", "reader", "--index", "0", .. settings.ToArgs()];
        if (pipe is not null)
        {
            readerArgs.AddRange(["--pipe-handle", pipe.GetClientHandleAsString()]);
        }

        using var reader = SelfProcess.Start(readerArgs, settings.FollowerCpu);
        pipe?.DisposeLocalCopyOfClientHandle();

        SelfProcess.AwaitReady(reader);

        int count = BurstUnits(settings);
        Span<byte> scratch = stackalloc byte[settings.Bulk ? 8 : settings.Size];
        var positions = new long[senders.Length];
        var ticks = new long[senders.Length];
        var carried = new long[senders.Length];
        var warmup = settings.NewWarmup();
        long giveUp = settings.WarmupGiveUp();
        while (true)
        {
            // Whole rounds here too: the reader expects the transports strictly in turn.
            long now = 0;
            for (int s = 0; s < senders.Length; s++)
            {
                now = Burst(senders[s], control, s, scratch, ref positions[s], settings, count, out _);
            }

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
        do
        {
            for (int s = 0; s < senders.Length; s++)
            {
                long before = positions[s];
                Burst(senders[s], control, s, scratch, ref positions[s], settings, count, out long elapsed);
                ticks[s] += elapsed;
                carried[s] += positions[s] - before;
            }
        }
        while (Stopwatch.GetTimestamp() < deadline);

        long jitDuring = JitInfo.GetCompiledMethodCount() - jitBefore;
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        preempted = SelfProcess.Preemptions() - preempted;
        control.EndPosition = 1;
        long operations = carried.Sum() / (settings.Bulk ? settings.Size : 1);
        for (int s = 0; s < senders.Length; s++)
        {
            // GB/s of bytes, or messages per second.
            double perSecond = carried[s] / (ticks[s] / (double)Stopwatch.Frequency);
            double value = settings.Bulk ? perSecond / 1e9 : perSecond;
            Console.WriteLine(Fields.Line(Role(s),
            [
                ("value", value.ToString("0.####", CultureInfo.InvariantCulture)), ("carried", carried[s]), ("total", positions[s]),
                ("alloc_per_op", ((double)allocated / Math.Max(1, operations)).ToString("0.###", CultureInfo.InvariantCulture)),
                ("jit_in_window", jitDuring), ("preempted", preempted), ("cpus", SelfProcess.ThreadCpus()), .. warmup.Fields(""),
            ]));
        }

        foreach (string line in SelfProcess.Finish(reader, TimeSpan.FromMinutes(1)))
        {
            Console.WriteLine(line);
        }

        return 0;
    }

    public static int Reader(RoleSettings settings, string? pipeHandle)
    {
        using var control = Control.Open(settings.ControlPath);
        var receivers = CreateReceivers(settings, pipeHandle);
        using var owned = new Owned(receivers);
        SelfProcess.AnnounceReady();

        var tallies = new Tally[receivers.Length];
        for (int s = 0; s < tallies.Length; s++)
        {
            tallies[s] = new Tally(control, settings.Bulk);
        }

        long burstUnits = (long)BurstUnits(settings) * (settings.Bulk ? settings.Size : 1);
        var warmup = settings.NewWarmup();
        long allocatedAtWarm = 0;
        long jitAtWarm = 0;
        long preemptedAtWarm = 0;
        long takenAtWarm = 0;
        for (long burst = 0; ; burst++)
        {
            int s = (int)(burst % receivers.Length);
            long target = (burst / receivers.Length + 1) * burstUnits;
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
                takenAtWarm = tallies.Sum(t => t.Next);
            }
        }

    Done:
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedAtWarm;
        long taken = (tallies.Sum(t => t.Next) - takenAtWarm) / (settings.Bulk ? settings.Size : 1);
        var fields = new List<(string Key, object Value)> { ("bad", tallies.Sum(t => t.Bad)) };
        for (int s = 0; s < tallies.Length; s++)
        {
            fields.Add(($"total{s}", tallies[s].Next));
        }

        fields.AddRange(
        [
            ("alloc_per_op", ((double)allocated / Math.Max(1, taken)).ToString("0.###", CultureInfo.InvariantCulture)),
            ("jit_after_warm", JitInfo.GetCompiledMethodCount() - jitAtWarm), ("preempted", SelfProcess.Preemptions() - preemptedAtWarm),
            ("cpus", SelfProcess.ThreadCpus()), .. warmup.Fields(""),
        ]);
        Console.WriteLine(Fields.Line("reader0", [.. fields]));
        return 0;
    }

    /// <summary>The result line of transport <paramref name="side"/>: the figure first, then its baselines in order.</summary>
    public static string Role(int side) => side == 0 ? "lead" : side == 1 ? "pair" : $"pair{side}";

    /// <summary>Writes (bulk) or messages per burst: 256 KiB of bytes, 1 MiB of messages.</summary>
    private static int BurstUnits(RoleSettings settings) => settings.Bulk ? (256 << 10) / settings.Size : Math.Max(1, (1 << 20) / settings.Size);

    private static ISender[] CreateSenders(RoleSettings settings, out AnonymousPipeServerStream? pipe)
    {
        pipe = null;
        if (settings.Transport == "ring-paired")
        {
            var (writer, ring) = ByteRing.CreateClaimed("transport", ThroughputRoles.RingOptions(settings));
            pipe = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.Inheritable);
            var (batchWriter, batchRing) = ByteRing.CreateClaimed("batched", ThroughputRoles.RingOptions(settings));
            return
            [
                new RingSender(writer, ring), new RawSender(RawRing.Create(RawPath(settings), RingCapacity, 1)), new StreamSender([pipe], null),
                new RingSender(batchWriter, batchRing),
            ];
        }

        var (logWriter, log) = SegmentedLog.CreateClaimed("transport", ThroughputRoles.LogOptions(settings));
        pipe = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.Inheritable);
        var (batchLogWriter, batchLog) = SegmentedLog.CreateClaimed("batched", ThroughputRoles.LogOptions(settings));
        return
        [
            new LogSender(logWriter, log),
            new RawSender(RawRing.Create(RawPath(settings), RawMessageCapacity, 1)),
            new StreamSender([pipe], null),
            new LogSender(batchLogWriter, batchLog),
        ];
    }

    private static IReceiver[] CreateReceivers(RoleSettings settings, string? pipeHandle)
    {
        if (settings.Transport == "ring-paired")
        {
            var ring = ByteRing.Open("transport", settings.Directory);
            return
            [
                new RingReceiver(ring, ring.CreateReader(ReadFrom.Oldest, IdleStrategy.BusySpin)),
                new RawReceiver(RawRing.Open(RawPath(settings), 1), 0, 1),
                PipeReceiver(pipeHandle, settings.Size),
                RingReceiver.Batched(ByteRing.Open("batched", settings.Directory)),
            ];
        }

        var log = SegmentedLog.Open("transport", settings.Directory);
        return
        [
            new LogReceiver(log, log.CreateReader(ReadFrom.Oldest, settings.ReaderIdleStrategy), batch: false),
            new RawReceiver(RawRing.Open(RawPath(settings), 1), 0, settings.Size),
            PipeReceiver(pipeHandle, settings.Size),
            LingeringLogReceiver(SegmentedLog.Open("batched", settings.Directory), settings),
        ];
    }

    /// <summary>A reader of <paramref name="log"/> idling as <paramref name="settings"/> say, taking batches of 256 records or what came within 2 µs.</summary>
    private static LogReceiver LingeringLogReceiver(SegmentedLog log, RoleSettings settings)
        => new(log, log.CreateReader(ReadFrom.Oldest, settings.ReaderIdleStrategy), batch: true, LogReceiver.LingerMinimum, LogReceiver.LingerDelay);

    private static StreamReceiver PipeReceiver(string? pipeHandle, int size)
        => new(new AnonymousPipeClientStream(PipeDirection.In, pipeHandle ?? throw new ArgumentException("--pipe-handle is required")), size);

    /// <summary>
    /// Sends a burst through transport <paramref name="side"/> and waits until the reader has checked it; returns the
    /// clock after that, with the burst's duration in <paramref name="elapsed"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long Burst(ISender sender, Control control, int side, Span<byte> scratch, ref long position, RoleSettings settings, int count, out long elapsed)
    {
        long start = Stopwatch.GetTimestamp();
        if (settings.Bulk)
        {
            sender.SendBytes(position, settings.Size, count);
            position += (long)settings.Size * count;
        }
        else
        {
            sender.SendMessages(scratch, position, count);
            position += count;
        }

        sender.Flush();
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
