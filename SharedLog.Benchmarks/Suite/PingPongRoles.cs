using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.CompilerServices;
using HdrHistogram;
using SharedLog.Benchmarks.CrossProcess;

namespace SharedLog.Benchmarks.Suite;

/// <summary>
/// The two processes of a round-trip measurement: the lead sends an 8-byte message (its round number) and waits for
/// the follower's echo, timing each round trip into an HdrHistogram; it warms up until both processes' JIT has gone
/// quiet, then records for <see cref="RoleSettings.Seconds"/>, then sends -1 to stop the echo.
/// </summary>
/// <remarks>
/// Transports: <c>log-spin</c> (two logs, readers busy-spinning), <c>raw-spin</c> (two raw rings, busy-spinning:
/// its baseline), <c>log-block</c> (two logs, readers blocking at once, no spin), <c>log-default</c> (the default
/// strategy: a short spin, then blocking) and <c>futex</c> (a bare futex word each way, the blocking ones' baseline:
/// store, FUTEX_WAKE, FUTEX_WAIT until the echo's word changes; it wakes on every message, as a protocol with no
/// sleeper flag must). <c>log-spin-paired</c> runs <c>log-spin</c> and <c>raw-spin</c> between the same two processes,
/// alternating every burst of 64 round trips into a histogram each, so the two see the same placement of the two
/// CPUs and their ratio does not move when the host moves them.
/// </remarks>
internal static class PingPongRoles
{
    /// <summary>Round trips per burst; a paired run alternates its two transports burst by burst.</summary>
    private const int Burst = 64;

    private const int FutexPing = 0;
    private const int FutexPong = 128;

    public static int Lead(RoleSettings settings)
    {
        using var control = Control.Create(settings.ControlPath);
        var sides = CreateSides(settings, lead: true);
        using var owned = new Owned(sides);
        using var echo = SelfProcess.Start(["suite", "--role", "echo", "--index", "0", .. settings.ToArgs()], settings.FollowerCpu);
        SelfProcess.AwaitReady(echo);

        // Warm-up records into histograms of its own, so the window runs code that is already compiled.
        var warmup = settings.NewWarmup();
        var warmupHistograms = NewHistograms(sides.Length);
        long round = 1;
        long burst = 0;
        long giveUp = settings.WarmupGiveUp();
        while (true)
        {
            int s = (int)(burst++ % sides.Length);
            long now = RoundTrips(sides[s], ref round, Burst, warmupHistograms[s]);
            if (warmup.Poll(now) && control.AllWarm(1))
            {
                break;
            }

            if (now > giveUp)
            {
                throw new TimeoutException("the echo process did not end its warm-up");
            }
        }

        var histograms = NewHistograms(sides.Length);
        var counts = new long[sides.Length];
        // The compiled-method count is read last before the window and first after it (see ThroughputRoles.Writer).
        long preempted = SelfProcess.Preemptions();
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        long jitBefore = JitInfo.GetCompiledMethodCount();
        long deadline = Stopwatch.GetTimestamp() + (long)(settings.Seconds * Stopwatch.Frequency);
        long end;
        do
        {
            int s = (int)(burst++ % sides.Length);
            end = RoundTrips(sides[s], ref round, Burst, histograms[s]);
            counts[s] += Burst;
        }
        while (end < deadline || burst % sides.Length != 0);

        long jitDuring = JitInfo.GetCompiledMethodCount() - jitBefore;
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        preempted = SelfProcess.Preemptions() - preempted;
        sides[(int)(burst % sides.Length)].Stop();
        double nsPerTick = 1e9 / Stopwatch.Frequency;
        long total = counts.Sum();
        for (int s = 0; s < sides.Length; s++)
        {
            // The first side is the figure ("lead"); a paired run's second side is its baseline ("pair"), measured in
            // alternate bursts between the same two processes.
            var histogram = histograms[s];
            Console.WriteLine(Fields.Line(s == 0 ? "lead" : "pair",
            [
                ("count", counts[s]),
                ("p50", Invariant(histogram.GetValueAtPercentile(50) * nsPerTick)),
                ("p99", Invariant(histogram.GetValueAtPercentile(99) * nsPerTick)),
                ("p999", Invariant(histogram.GetValueAtPercentile(99.9) * nsPerTick)),
                ("max", Invariant(histogram.GetMaxValue() * nsPerTick)),
                ("alloc_per_op", Invariant((double)allocated / Math.Max(1, total))),
                ("jit_in_window", jitDuring), ("preempted", preempted), ("cpus", SelfProcess.ThreadCpus()), .. warmup.Fields(""),
            ]));
        }

        foreach (string line in SelfProcess.Finish(echo, TimeSpan.FromMinutes(1)))
        {
            Console.WriteLine(line);
        }

        return 0;
    }

    public static int Echo(RoleSettings settings)
    {
        using var control = Control.Open(settings.ControlPath);
        var sides = CreateSides(settings, lead: false);
        using var owned = new Owned(sides);
        SelfProcess.AnnounceReady();
        var warmup = settings.NewWarmup();
        long echoed = 0;

        // Bursts alternate between the sides in the lead's order, so each side's echo waits where the lead sends.
        for (long burst = 0; sides[(int)(burst % sides.Length)].EchoBurst(Burst, ref echoed); burst++)
        {
            if (!warmup.Done && warmup.Poll(Stopwatch.GetTimestamp()))
            {
                control.SetWarmStatus(0, warmup.Status);
            }
        }

        Console.WriteLine(Fields.Line("echo", [("count", echoed), ("cpus", SelfProcess.ThreadCpus()), .. warmup.Fields("")]));
        return 0;
    }

    private static LongHistogram[] NewHistograms(int count) => [.. Enumerable.Range(0, count).Select(_ => new LongHistogram(10_000_000_000, 3))];

    /// <summary>Makes <paramref name="count"/> round trips, timing each into <paramref name="histogram"/>; returns the clock after the last.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long RoundTrips(IPingSide side, ref long round, int count, LongHistogram histogram)
    {
        long end = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            long start = end;
            long echo = side.RoundTrip(round);
            end = Stopwatch.GetTimestamp();
            if (echo != round)
            {
                throw new InvalidOperationException($"echo {echo} for round {round}");
            }

            round++;
            histogram.RecordValue(end - start);
        }

        return end;
    }

    private static string Invariant(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>The transport's side, or for a paired transport its two sides: the figure first, its baseline second.</summary>
    private static IPingSide[] CreateSides(RoleSettings settings, bool lead) => settings.Transport switch
    {
        "log-spin-paired" => [new LogSide(settings.Directory, lead, IdleStrategy.BusySpin), new RawSide(settings.Directory, lead)],
        _ => [CreateSide(settings, lead)],
    };

    private static IPingSide CreateSide(RoleSettings settings, bool lead) => settings.Transport switch
    {
        "log-spin" => new LogSide(settings.Directory, lead, IdleStrategy.BusySpin),
        "log-block" => new LogSide(settings.Directory, lead, IdleStrategy.CreateBlocking(spinCount: 0)),
        "log-default" => new LogSide(settings.Directory, lead, IdleStrategy.Default),
        "raw-spin" => new RawSide(settings.Directory, lead),
        "futex" => new FutexSide(settings.Directory, lead),
        _ => throw new ArgumentException($"unknown ping-pong transport '{settings.Transport}'"),
    };

    /// <summary>One process's end of a ping-pong transport.</summary>
    private interface IPingSide : IDisposable
    {
        /// <summary>Lead: sends <paramref name="value"/> and returns the echo.</summary>
        long RoundTrip(long value);

        /// <summary>Follower: echoes up to <paramref name="count"/> messages; false once told to stop.</summary>
        bool EchoBurst(int count, ref long echoed);

        /// <summary>Lead: tells the follower to stop.</summary>
        void Stop();
    }

    /// <summary>Two logs, "ping" (lead writes) and "pong" (follower writes); 8-byte records.</summary>
    private sealed class LogSide : IPingSide
    {
        private readonly SegmentedLog _in;
        private readonly SegmentedLog _out;
        private readonly LogWriter _writer;
        private readonly LogReader _reader;

        public LogSide(string directory, bool lead, IdleStrategy idle)
        {
            var options = new SegmentedLogOptions { Directory = directory, SegmentCapacity = 4096, RetainedCapacity = 16384 };
            if (lead)
            {
                (_writer, _out) = SegmentedLog.CreateClaimed("ping", options);
                _in = SegmentedLog.Create("pong", options);
            }
            else
            {
                _in = SegmentedLog.Open("ping", directory);
                _out = SegmentedLog.Open("pong", directory);
                _writer = _out.TryClaimWriter(out var writer) ? writer : throw new InvalidOperationException("could not claim the pong writer");
            }

            _reader = _in.CreateReader(ReadFrom.Oldest, idle);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public long RoundTrip(long value)
        {
            _writer.Append(value);
            return Receive();
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public bool EchoBurst(int count, ref long echoed)
        {
            for (int i = 0; i < count; i++)
            {
                long value = Receive();
                if (value < 0)
                {
                    return false;
                }

                _writer.Append(value);
                echoed++;
            }

            return true;
        }

        public void Stop() => _writer.Append(-1L);

        public void Dispose()
        {
            _reader.Dispose();
            _writer.Dispose();
            _in.Dispose();
            _out.Dispose();
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private long Receive()
        {
            LogRecord record;
            while (!_reader.TryRead(out record))
            {
                if (!_reader.Wait(TimeSpan.FromSeconds(30)))
                {
                    throw new TimeoutException("no message for 30 s");
                }
            }

            return record.Read<long>();
        }
    }

    /// <summary>Two raw rings of 8-byte messages, both sides busy-spinning (a pause per try).</summary>
    private sealed class RawSide : IPingSide
    {
        private readonly RawRing _inRing;
        private readonly RawRing _outRing;
        private readonly RawRing.Producer _producer;
        private readonly RawRing.Consumer _consumer;

        public RawSide(string directory, bool lead)
        {
            string ping = Path.Combine(directory, "ping.raw");
            string pong = Path.Combine(directory, "pong.raw");
            if (lead)
            {
                _outRing = RawRing.Create(ping, 1 << 16, 1);
                _inRing = RawRing.Create(pong, 1 << 16, 1);
            }
            else
            {
                _inRing = RawRing.Open(ping, 1);
                _outRing = RawRing.Open(pong, 1);
            }

            _producer = _outRing.CreateProducer();
            _consumer = _inRing.CreateConsumer(0);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public long RoundTrip(long value)
        {
            Send(value);
            return Receive();
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public bool EchoBurst(int count, ref long echoed)
        {
            for (int i = 0; i < count; i++)
            {
                long value = Receive();
                if (value < 0)
                {
                    return false;
                }

                Send(value);
                echoed++;
            }

            return true;
        }

        public void Stop() => Send(-1);

        public void Dispose()
        {
            _inRing.Dispose();
            _outRing.Dispose();
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Send(long value)
        {
            Span<long> message = [value];
            _producer.WriteMessage(System.Runtime.InteropServices.MemoryMarshal.AsBytes(message), busySpin: true);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private long Receive()
        {
            ReadOnlySpan<byte> message;
            while ((message = _consumer.Peek(sizeof(long))).IsEmpty)
            {
                Thread.SpinWait(1);
            }

            long value = BitConverter.ToInt64(message);
            _consumer.Advance(sizeof(long));
            return value;
        }
    }

    /// <summary>A 32-bit futex word each way: store, wake; wait while the other word is unchanged.</summary>
    private sealed class FutexSide : IPingSide
    {
        private readonly SharedMapping _map;
        private readonly int _outOffset;
        private readonly int _inOffset;
        private int _last;

        public FutexSide(string directory, bool lead)
        {
            if (!Native.HasFutex)
            {
                throw new PlatformNotSupportedException("the futex baseline needs Linux on x64 or arm64");
            }

            string path = Path.Combine(directory, "futex");
            _map = lead ? SharedMapping.Create(path, 4096) : SharedMapping.Open(path);
            (_outOffset, _inOffset) = lead ? (FutexPing, FutexPong) : (FutexPong, FutexPing);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public long RoundTrip(long value)
        {
            Send((int)(value & int.MaxValue));
            return Receive() == (int)(value & int.MaxValue) ? value : -1;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public bool EchoBurst(int count, ref long echoed)
        {
            for (int i = 0; i < count; i++)
            {
                int value = Receive();
                if (value < 0)
                {
                    return false;
                }

                Send(value);
                echoed++;
            }

            return true;
        }

        public void Stop() => Send(-1);

        public void Dispose() => _map.Dispose();

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Send(int value)
        {
            Volatile.Write(ref _map.Int32(_outOffset), value);
            Native.Wake(_map.Address(_outOffset));
        }

        /// <summary>Waits until the incoming word differs from the last value seen (values never repeat: round numbers grow).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private int Receive()
        {
            int value;
            while ((value = Volatile.Read(ref _map.Int32(_inOffset))) == _last)
            {
                Native.Wait(_map.Address(_inOffset), value);
            }

            _last = value;
            return value;
        }
    }
}
