using System.Diagnostics;
using System.Globalization;
using System.IO.Pipes;
using System.Net.Sockets;
using System.Runtime;
using System.Runtime.CompilerServices;
using SharedLog.Benchmarks.CrossProcess;

namespace SharedLog.Benchmarks.Suite;

/// <summary>
/// The lead (writer) and follower (reader) processes of a throughput measurement. The writer creates the transport,
/// starts its readers (each under <c>taskset</c> when pinned; a pipe can only be handed down, so the writer is their
/// parent), then writes without pause through three phases: warm-up (until its own compiled-method count and every
/// reader's are still, or time out), the measured window (from <see cref="Control.StartPosition"/> for
/// <see cref="RoleSettings.Seconds"/>), and the end.
/// </summary>
/// <remarks>
/// The measured loops are small methods called again and again (a burst each), so tiered compilation replaces them
/// with optimised code rather than leaving a long-running loop to on-stack replacement.
/// A reader's figure is the measured messages (or bytes) it received divided by the time from the writer's first
/// measured write to its own receipt of the last one (<see cref="Stopwatch.GetTimestamp"/> is system-wide).
/// </remarks>
internal static class ThroughputRoles
{
    private const int LogSegmentCapacity = 4096;
    private const long LogRetained = 1 << 16;
    private const int RawCapacity = 4 << 20;
    private const int ByteRingCapacity = 1 << 20;

    /// <summary>Messages (or writes) per burst: about 64 KiB, at least 16 and at most 1024.</summary>
    public static int BurstCount(int size) => Math.Clamp((64 << 10) / size, 16, 1024);

    /// <summary>The log every throughput run measures: 4,096-record segments, 65,536 records retained, <see cref="SlowReaderPolicy.Block"/>.</summary>
    public static SegmentedLogOptions LogOptions(RoleSettings settings) => new()
    {
        SegmentCapacity = LogSegmentCapacity,
        RetainedCapacity = LogRetained,
        SlowReaderPolicy = SlowReaderPolicy.Block,
        SlowReaderTimeout = TimeSpan.FromSeconds(30),
        Directory = settings.Directory,
    };

    /// <summary>The byte ring every bulk run measures: 1 MiB, <see cref="SlowReaderPolicy.Block"/>.</summary>
    public static ByteRingOptions RingOptions(RoleSettings settings) => new()
    {
        Capacity = ByteRingCapacity,
        SlowReaderPolicy = SlowReaderPolicy.Block,
        SlowReaderTimeout = TimeSpan.FromSeconds(30),
        Directory = settings.Directory,
    };

    public static int Writer(RoleSettings settings)
    {
        using var control = Control.Create(settings.ControlPath);
        var readers = new List<Process>();
        using var sender = CreateSender(settings, readers);
        foreach (var reader in readers)
        {
            SelfProcess.AwaitReady(reader);
        }

        int burst = BurstCount(settings.Size);
        Span<byte> scratch = stackalloc byte[settings.Bulk ? 8 : settings.Size];
        long position = 0;
        long checksum = 0;

        // Warm-up: the same loop as the window, until every process's JIT has gone quiet.
        var warmup = settings.NewWarmup();
        long giveUp = settings.WarmupGiveUp();
        while (true)
        {
            position = Send(sender, scratch, position, burst, settings, ref checksum);
            long now = Stopwatch.GetTimestamp();
            if (warmup.Poll(now) && control.AllWarm(settings.Readers))
            {
                break;
            }

            if (now > giveUp)
            {
                throw new TimeoutException("the readers did not end their warm-up");
            }
        }

        // The window.
        checksum = 0;
        control.StartPosition = position;
        long window = position;
        // The compiled-method count is read last before the window and first after it, so the bookkeeping around
        // the window (which may compile on first use) does not count as compilation inside it.
        long preempted = SelfProcess.Preemptions();
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        long jitBefore = JitInfo.GetCompiledMethodCount();
        long start = Stopwatch.GetTimestamp();
        long deadline = start + (long)(settings.Seconds * Stopwatch.Frequency);
        do
        {
            position = Send(sender, scratch, position, burst, settings, ref checksum);
        }
        while (Stopwatch.GetTimestamp() < deadline);

        long end = Stopwatch.GetTimestamp();
        long jitDuring = JitInfo.GetCompiledMethodCount() - jitBefore;
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        preempted = SelfProcess.Preemptions() - preempted;
        control.EndPosition = position;
        sender.Finish();

        long measured = position - window;
        long operations = settings.Bulk ? measured / settings.Size : measured;
        Console.WriteLine(Fields.Line("writer",
        [
            ("count", measured), ("checksum", checksum), ("start", start), ("end", end), ("total", position),
            ("alloc_per_op", ((double)allocated / Math.Max(1, operations)).ToString("0.###", CultureInfo.InvariantCulture)),
            ("jit_in_window", jitDuring), ("preempted", preempted), ("cpus", SelfProcess.ThreadCpus()), .. warmup.Fields(""),
        ]));
        for (int i = 0; i < readers.Count; i++)
        {
            foreach (string line in SelfProcess.Finish(readers[i], TimeSpan.FromMinutes(1)))
            {
                Console.WriteLine(line);
            }

            readers[i].Dispose();
        }

        return 0;
    }

    public static int Reader(RoleSettings settings, int index, string? pipeHandle)
    {
        using var control = Control.Open(settings.ControlPath);
        using var receiver = CreateReceiver(settings, index, pipeHandle);
        SelfProcess.AnnounceReady();

        var tally = new Tally(control, settings.Bulk);
        var warmup = settings.NewWarmup();
        long lastReceipt = 0;
        long lastProgress = Stopwatch.GetTimestamp();
        long allocatedAtWarm = 0;
        long positionAtWarm = 0;
        long jitAtWarm = 0;
        long preemptedAtWarm = 0;
        while (true)
        {
            int taken = receiver.Receive(ref tally);
            long now = Stopwatch.GetTimestamp();
            if (taken > 0)
            {
                lastReceipt = now;
                lastProgress = now;
            }
            else if (tally.Ended || tally.Next >= control.EndPosition)
            {
                break;
            }
            else if (now - lastProgress > 30 * Stopwatch.Frequency)
            {
                throw new TimeoutException($"reader {index}: nothing for 30 s at position {tally.Next}");
            }

            if (!warmup.Done && warmup.Poll(now))
            {
                control.SetWarmStatus(index, warmup.Status);
                preemptedAtWarm = SelfProcess.Preemptions();
                allocatedAtWarm = GC.GetAllocatedBytesForCurrentThread();
                positionAtWarm = tally.Next;
                jitAtWarm = JitInfo.GetCompiledMethodCount();
            }
        }

        long jitAfterWarm = JitInfo.GetCompiledMethodCount() - jitAtWarm;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedAtWarm;
        long operations = (tally.Next - positionAtWarm) / (settings.Bulk ? settings.Size : 1);
        Console.WriteLine(Fields.Line($"reader{index}",
        [
            ("count", tally.Measured), ("checksum", tally.Checksum), ("bad", tally.Bad), ("end", lastReceipt), ("total", tally.Next),
            ("alloc_per_op", ((double)allocated / Math.Max(1, operations)).ToString("0.###", CultureInfo.InvariantCulture)),
            ("jit_after_warm", jitAfterWarm), ("preempted", SelfProcess.Preemptions() - preemptedAtWarm), ("cpus", SelfProcess.ThreadCpus()), .. warmup.Fields(""),
        ]));
        return 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long Send(ISender sender, Span<byte> scratch, long position, int burst, RoleSettings settings, ref long checksum)
    {
        if (settings.Bulk)
        {
            sender.SendBytes(position, settings.Size, burst);
            return position + (long)burst * settings.Size;
        }

        checksum += sender.SendMessages(scratch, position, burst);
        return position + burst;
    }

    private static ISender CreateSender(RoleSettings settings, List<Process> readers)
    {
        List<string> ReaderArgs(int index) => ["suite", "--role", "reader", "--index", index.ToString(CultureInfo.InvariantCulture), .. settings.ToArgs()];
        void StartReaders()
        {
            for (int i = 0; i < settings.Readers; i++)
            {
                readers.Add(SelfProcess.Start(ReaderArgs(i), settings.FollowerCpu));
            }
        }

        string path = Path.Combine(settings.Directory, "transport");
        switch (settings.Transport)
        {
            case "log":
            case "log-batch":
            case "log-linger":
            {
                var (writer, log) = SegmentedLog.CreateClaimed("transport", LogOptions(settings));
                StartReaders();
                return new LogSender(writer, log);
            }

            case "ring":
            case "ring-gather":
            {
                var (writer, ring) = ByteRing.CreateClaimed("transport", RingOptions(settings));
                StartReaders();
                return new RingSender(writer, ring, gather: settings.Transport == "ring-gather");
            }

            case "raw":
            {
                var ring = RawRing.Create(path, settings.Bulk ? ByteRingCapacity : RawCapacity, settings.Readers);
                StartReaders();
                return new RawSender(ring);
            }

            case "pipe":
            {
                var streams = new Stream[settings.Readers];
                for (int i = 0; i < settings.Readers; i++)
                {
                    var pipe = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.Inheritable);
                    readers.Add(SelfProcess.Start([.. ReaderArgs(i), "--pipe-handle", pipe.GetClientHandleAsString()], settings.FollowerCpu));
                    pipe.DisposeLocalCopyOfClientHandle();
                    streams[i] = pipe;
                }

                return new StreamSender(streams, null);
            }

            case "uds":
            {
                string socketPath = path + ".sock";
                var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                listener.Bind(new UnixDomainSocketEndPoint(socketPath));
                listener.Listen(settings.Readers);
                StartReaders();
                var streams = new Stream[settings.Readers];
                for (int i = 0; i < settings.Readers; i++)
                {
                    streams[i] = new NetworkStream(listener.Accept(), ownsSocket: true);
                }

                return new StreamSender(streams, listener);
            }

            default:
                throw new ArgumentException($"unknown throughput transport '{settings.Transport}'");
        }
    }

    private static IReceiver CreateReceiver(RoleSettings settings, int index, string? pipeHandle)
    {
        string path = Path.Combine(settings.Directory, "transport");
        switch (settings.Transport)
        {
            case "log":
            case "log-batch":
            case "log-linger":
            {
                var log = SegmentedLog.Open("transport", settings.Directory);
                var reader = log.CreateReader(ReadFrom.Oldest, settings.ReaderIdleStrategy);
                return settings.Transport == "log-linger"
                    ? new LogReceiver(log, reader, batch: true, LogReceiver.LingerMinimum, LogReceiver.LingerDelay)
                    : new LogReceiver(log, reader, batch: settings.Transport == "log-batch");
            }

            case "ring":
            case "ring-gather":
            {
                var ring = ByteRing.Open("transport", settings.Directory);
                return new RingReceiver(ring, ring.CreateReader(ReadFrom.Oldest, settings.ReaderIdleStrategy));
            }

            case "raw":
                return new RawReceiver(RawRing.Open(path, settings.Readers), index, settings.Bulk ? 1 : settings.Size);

            case "pipe":
                return new StreamReceiver(
                    new AnonymousPipeClientStream(PipeDirection.In, pipeHandle ?? throw new ArgumentException("--pipe-handle is required")), settings.Size);

            case "uds":
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                socket.Connect(new UnixDomainSocketEndPoint(path + ".sock"));
                return new StreamReceiver(new NetworkStream(socket, ownsSocket: true), settings.Size);
            }

            default:
                throw new ArgumentException($"unknown throughput transport '{settings.Transport}'");
        }
    }
}
