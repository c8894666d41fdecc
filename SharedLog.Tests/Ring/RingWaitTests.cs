using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using SharedLog.Tests.Infrastructure;
using SharedLog.Platform;
using SharedLog.Waiting;
using Xunit.Abstractions;

namespace SharedLog.Tests.Ring;

/// <summary>The ring's waits on its futex signals: idle cost, wake-ups across processes, cancellation and disposal.</summary>
public sealed class RingWaitTests : IDisposable
{
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(2);
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public RingWaitTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    private static bool Stress => Environment.GetEnvironmentVariable("SHAREDLOG_STRESS") == "1";

    private ByteRingOptions Options(int capacity = 4096)
        => new()
        {
            Capacity = capacity,
            SlowReaderPolicy = SlowReaderPolicy.Block,
            SlowReaderTimeout = TimeSpan.FromSeconds(60),
            Directory = _dir.Path,
        };

    [Theory]
    [InlineData("default")]
    [InlineData("spin")]
    [InlineData("yield")]
    public async Task Wait_returns_false_after_the_whole_timeout_and_true_at_once_when_bytes_are_there(string strategy)
    {
        var (writer, ring) = ByteRing.CreateClaimed("timeout-" + strategy, Options());
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            reader.IdleStrategy = strategy switch
            {
                "spin" => IdleStrategy.BusySpin,
                "yield" => IdleStrategy.Yielding,
                _ => IdleStrategy.Default,
            };
            Assert.False(reader.Wait(TimeSpan.Zero));

            // A spinning wait starts its deadline after its first round; it still waits the whole timeout.
            var waited = Stopwatch.StartNew();
            Assert.False(reader.Wait(TimeSpan.FromMilliseconds(20)));
            Assert.True(waited.ElapsedMilliseconds >= 19, $"a 20 ms wait ended after {waited.ElapsedMilliseconds} ms");

            // Bytes written by another thread while the reader waits end the wait true.
            var write = Task.Run(async () =>
            {
                await Task.Delay(30);
                writer.Write([1, 2, 3]);
            });
            Assert.True(reader.Wait(ChildTimeout));
            await write.WaitAsync(ChildTimeout);
            Assert.True(reader.Wait(TimeSpan.Zero));
            Assert.Throws<ArgumentOutOfRangeException>(() => reader.Wait(TimeSpan.FromMilliseconds(-2)));
            Assert.Equal(3, reader.Read(new byte[8]));
            Assert.False(reader.Wait(TimeSpan.Zero));
        }
    }

    [SkippableFact]
    public void Blocked_ring_readers_use_almost_no_cpu_and_wake_on_one_write()
    {
        Skip.IfNot(OperatingSystem.IsLinux());
        var (writer, ring) = ByteRing.CreateClaimed("idle", Options());
        using (writer)
        using (ring)
        {
            using var sync = Child.Start("ring-wait-idle-reader", _dir.Path, "idle", "sync");
            using var async = Child.Start("ring-wait-idle-reader", _dir.Path, "idle", "async");
            sync.WaitForLine("ready", ChildTimeout);
            async.WaitForLine("ready", ChildTimeout);
            Thread.Sleep(2000);
            var value = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(value, 42);
            Assert.Equal(8, writer.Write(value));

            foreach (var child in new[] { sync, async })
            {
                string line = child.WaitForLine("got ", ChildTimeout);
                child.AssertSuccess(ChildTimeout);
                _output.WriteLine(line);
                string[] parts = line.Split(' ');
                Assert.Equal("42", parts[1]);
                double cpuMs = double.Parse(parts[3], CultureInfo.InvariantCulture);
                double wallMs = double.Parse(parts[5], CultureInfo.InvariantCulture);
                Assert.True(wallMs >= 1500, $"the child waited only {wallMs} ms: {line}");
                Assert.True(cpuMs < 0.2 * wallMs, $"a blocked ring reader used {cpuMs} ms of CPU in {wallMs} ms: {line}");
            }
        }
    }

    [SkippableFact]
    public void Writer_blocked_for_space_wakes_when_the_slow_reader_in_another_process_advances()
    {
        Skip.IfNot(OperatingSystem.IsLinux());
        var (writer, ring) = ByteRing.CreateClaimed("space", Options(capacity: 64));
        using (ring)
        using (writer)
        {
            using var reader = Child.Start("ring-wait-slow-reader", _dir.Path, "space");
            reader.WaitForLine("ready", ChildTimeout);
            Assert.Equal(64, writer.Write(RingContent.Make(0, 64)));
            Assert.Equal(0, writer.Write(RingContent.Make(64, 1)));

            writer.IdleStrategy = IdleStrategy.CreateBlocking(spinCount: 0);
            var wait = Task.Factory.StartNew(() => writer.WaitForSpace(ChildTimeout), TaskCreationOptions.LongRunning);

            // The writer set the need-wakeup flag: it sleeps, or is about to, on the space signal.
            var deadline = Stopwatch.StartNew();
            while (!ring.File.SpaceSignal.NeedsWake && !wait.IsCompleted && deadline.Elapsed < ChildTimeout)
            {
                Thread.Sleep(1);
            }

            Assert.False(wait.IsCompleted, "the writer should still be blocked");
            var woken = Stopwatch.StartNew();
            reader.WriteLine("advance");
            Assert.True(wait.Wait(ChildTimeout), "the writer stayed blocked after the reader advanced");
            Assert.True(wait.Result);
            _output.WriteLine($"writer resumed {woken.Elapsed.TotalMilliseconds:F1} ms after the advance was requested");

            // The rest goes through the async path: each WriteAsync waits for the reader to drain.
            writer.WriteAsync(RingContent.Make(64, 1000)).AsTask().Wait(ChildTimeout);
            writer.Complete();

            string line = reader.WaitForLine("done ", ChildTimeout);
            reader.AssertSuccess(ChildTimeout);
            _output.WriteLine(line);
            Assert.Equal("done bytes 1064 lost 0", line[..line.IndexOf(" wakes", StringComparison.Ordinal)]);
            long wakes = long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            Assert.True(wakes >= 1, $"the reader never woke the sleeping writer: {line}");
        }
    }

    [Fact]
    public async Task ReadAsync_cancellation_and_disposal_end_waits_promptly()
    {
        var (writer, ring) = ByteRing.CreateClaimed("cancel", Options(capacity: 64));
        using (writer)
        using (ring)
        {
            using (var reader = ring.CreateReader(ReadFrom.Latest, IdleStrategy.CreateBlocking(spinCount: 0)))
            {
                // Cancelled while the dispatcher sleeps on the data signal.
                using var cts = new CancellationTokenSource();
                var read = reader.ReadAsync(new byte[8], cts.Token).AsTask();
                await Task.Delay(100);
                Assert.False(read.IsCompleted);
                var sw = Stopwatch.StartNew();
                cts.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(Prompt));
                _output.WriteLine($"ReadAsync cancelled in {sw.Elapsed.TotalMilliseconds:F1} ms");

                // A blocking wait, cancelled from another thread.
                using var cts2 = new CancellationTokenSource();
                var wait = Task.Factory.StartNew(() => reader.Wait(Timeout.InfiniteTimeSpan, cts2.Token), TaskCreationOptions.LongRunning);
                await Task.Delay(100);
                Assert.False(wait.IsCompleted);
                sw.Restart();
                cts2.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(Prompt));
                _output.WriteLine($"Wait cancelled in {sw.Elapsed.TotalMilliseconds:F1} ms");

                // Still usable after both: the next write wakes a new wait.
                var next = reader.ReadAsync(new byte[8]).AsTask();
                writer.Write(RingContent.Make(0, 8));
                Assert.Equal(8, await next.WaitAsync(Prompt));
            }

            // Disposing the reader ends its pending ReadAsync and a blocking Wait in another thread.
            var disposed = ring.CreateReader(ReadFrom.Latest, IdleStrategy.CreateBlocking(spinCount: 0));
            var pending = disposed.ReadAsync(new byte[8]).AsTask();
            await Task.Delay(100);
            Assert.False(pending.IsCompleted);
            var watch = Stopwatch.StartNew();
            disposed.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.WaitAsync(Prompt));
            _output.WriteLine($"ReadAsync ended by Dispose in {watch.Elapsed.TotalMilliseconds:F1} ms");

            var other = ring.CreateReader(ReadFrom.Latest, IdleStrategy.CreateBlocking(spinCount: 0));
            var blocked = Task.Factory.StartNew(() => other.Wait(Timeout.InfiniteTimeSpan), TaskCreationOptions.LongRunning);
            await Task.Delay(100);
            Assert.False(blocked.IsCompleted);
            other.Dispose();
            Assert.False(await blocked.WaitAsync(Prompt));

            // Disposing the writer ends its pending WaitForSpaceAsync.
            using var slow = ring.CreateReader(ReadFrom.Latest);
            Assert.Equal(64, writer.Write(RingContent.Make(8, 64)));
            var space = writer.WaitForSpaceAsync().AsTask();
            await Task.Delay(100);
            Assert.False(space.IsCompleted);
            writer.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(() => space.WaitAsync(Prompt));
        }
    }

    [Fact]
    public async Task Disposing_the_ring_handle_ends_the_waits_of_its_readers()
    {
        var (writer, ring) = ByteRing.CreateClaimed("ring-dispose", Options(capacity: 64));
        using (writer)
        {
            var reader = ring.CreateReader(ReadFrom.Latest, IdleStrategy.CreateBlocking(spinCount: 0));
            var async = reader.WaitAsync().AsTask();
            var sync = Task.Factory.StartNew(() => reader.Wait(Timeout.InfiniteTimeSpan), TaskCreationOptions.LongRunning);
            await Task.Delay(100);
            Assert.False(async.IsCompleted);
            Assert.False(sync.IsCompleted);
            ring.Dispose();
            Assert.False(await async.WaitAsync(Prompt));
            Assert.False(await sync.WaitAsync(Prompt));
            reader.Dispose();
        }
    }

    [SkippableFact]
    public void Blocking_ping_pong_over_two_rings_between_two_processes_never_stalls()
    {
        Skip.IfNot(OperatingSystem.IsLinux());
        RunPingPong("sync", Stress ? 500_000 : 20_000);
    }

    [SkippableFact]
    public void Async_ping_pong_over_two_rings_between_two_processes_never_stalls()
    {
        Skip.IfNot(OperatingSystem.IsLinux());
        RunPingPong("async", Stress ? 200_000 : 20_000);
    }

    private void RunPingPong(string mode, int count)
    {
        using (ByteRing.Create("ping", Options()))
        using (ByteRing.Create("pong", Options()))
        {
            string n = count.ToString(CultureInfo.InvariantCulture);
            var watch = Stopwatch.StartNew();
            using var first = Child.Start("ring-wait-ping-pong", _dir.Path, "pong", "ping", n, mode, "first");
            using var second = Child.Start("ring-wait-ping-pong", _dir.Path, "ping", "pong", n, mode, "second");

            // Each wait is bounded (30 s) and sleeps are one long slice, so a lost wake-up fails the child instead of
            // being hidden by a periodic re-check.
            var timeout = TimeSpan.FromSeconds(Stress ? 600 : 120);
            first.AssertSuccess(timeout);
            second.AssertSuccess(timeout);
            Assert.Contains($"done {count}", first.Output, StringComparison.Ordinal);
            Assert.Contains($"done {count}", second.Output, StringComparison.Ordinal);
            _output.WriteLine($"{count} {mode} round trips in {watch.Elapsed.TotalMilliseconds:F0} ms (with process start-up)");
        }
    }

    /// <summary>args: directory, name, sync|async. Waits for 8 bytes from the latest position and reports its own CPU time.</summary>
    [ChildRole("ring-wait-idle-reader")]
    public static int IdleReader(string[] args)
    {
        using var ring = ByteRing.Open(args[1], args[0]);
        using var reader = ring.CreateReader(ReadFrom.Latest);
        bool async = args[2] == "async";
        var buffer = new byte[8];

        // Warm up both paths, so JIT compilation does not count as waiting.
        _ = reader.Wait(TimeSpan.FromMilliseconds(20));
        using (var warm = new CancellationTokenSource(TimeSpan.FromMilliseconds(20)))
        {
            try
            {
                _ = reader.ReadAsync(buffer, warm.Token).AsTask().GetAwaiter().GetResult();
                Console.WriteLine("unexpected data while warming up");
                return 3;
            }
            catch (OperationCanceledException)
            {
            }
        }

        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        Console.WriteLine("ready");
        int read;
        if (async)
        {
            read = reader.ReadAsync(buffer).AsTask().GetAwaiter().GetResult();
        }
        else
        {
            read = reader.Wait(TimeSpan.FromSeconds(60)) ? reader.Read(buffer) : 0;
        }

        double wallMs = wall.Elapsed.TotalMilliseconds;
        process.Refresh();
        double cpuMs = (process.TotalProcessorTime - cpu).TotalMilliseconds;
        if (read != 8)
        {
            Console.WriteLine($"read {read} bytes");
            return 1;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"got {BinaryPrimitives.ReadInt64LittleEndian(buffer)} cpu {cpuMs:F1} wall {wallMs:F1}"));
        return 0;
    }

    /// <summary>
    /// args: directory, name. Pins the oldest byte until told to advance, then reads to the end of the stream,
    /// checking <see cref="RingContent"/>. Prints "done bytes N lost L wakes W".
    /// </summary>
    [ChildRole("ring-wait-slow-reader")]
    public static int SlowReader(string[] args)
    {
        using var ring = ByteRing.Open(args[1], args[0]);
        using var reader = ring.CreateReader(ReadFrom.Oldest);
        Console.WriteLine("ready");
        if (Console.ReadLine() != "advance")
        {
            return 2;
        }

        var buffer = new byte[16];
        long total = 0;
        while (true)
        {
            int read = reader.Read(buffer);
            if (read == 0)
            {
                if (reader.IsCompleted)
                {
                    break;
                }

                if (!reader.Wait(TimeSpan.FromSeconds(30)))
                {
                    Console.WriteLine("stalled");
                    return 4;
                }

                continue;
            }

            if (RingContent.Mismatch(buffer.AsSpan(0, read), total) >= 0)
            {
                Console.WriteLine($"wrong byte near position {total}");
                return 1;
            }

            total += read;
        }

        Console.WriteLine($"done bytes {total} lost {reader.LostBytes} wakes {ring.File.SpaceSignal.WakeCount}");
        return 0;
    }

    /// <summary>
    /// args: directory, in-ring, out-ring, count, sync|async, first|second. Each side blocks (no spin) for the other's
    /// value i (8 bytes), then writes its own; the first side writes before it waits.
    /// </summary>
    [ChildRole("ring-wait-ping-pong")]
    public static int PingPong(string[] args)
    {
        Futex.SliceMs = 60_000;
        using var input = ByteRing.Open(args[1], args[0]);
        using var output = ByteRing.Open(args[2], args[0]);
        long count = long.Parse(args[3], CultureInfo.InvariantCulture);
        bool async = args[4] == "async";
        bool first = args[5] == "first";
        using var reader = input.CreateReader(ReadFrom.Oldest, IdleStrategy.CreateBlocking(spinCount: 0));
        var claimed = Stopwatch.StartNew();
        RingWriter? claimedWriter;
        while (!output.TryClaimWriter(out claimedWriter))
        {
            if (claimed.Elapsed > TimeSpan.FromSeconds(30))
            {
                Console.WriteLine("could not claim the writer");
                return 5;
            }

            Thread.Sleep(1);
        }

        using var writer = claimedWriter;
        writer.IdleStrategy = IdleStrategy.CreateBlocking(spinCount: 0);
        var value = new byte[8];
        var received = new byte[8];
        using var stall = new CancellationTokenSource();
        for (long i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(value, i);
            if (first && writer.Write(value) != 8)
            {
                Console.WriteLine($"no space for value {i}");
                return 6;
            }

            int got = 0;
            while (got < 8)
            {
                int read = reader.Read(received.AsSpan(got));
                if (read > 0)
                {
                    got += read;
                    continue;
                }

                bool woke;
                if (async)
                {
                    stall.CancelAfter(TimeSpan.FromSeconds(30));
                    try
                    {
                        woke = reader.WaitAsync(stall.Token).AsTask().GetAwaiter().GetResult();
                    }
                    catch (OperationCanceledException)
                    {
                        woke = false;
                    }
                }
                else
                {
                    woke = reader.Wait(TimeSpan.FromSeconds(30));
                }

                if (!woke)
                {
                    Console.WriteLine($"stalled waiting for value {i}");
                    return 4;
                }
            }

            long v = BinaryPrimitives.ReadInt64LittleEndian(received);
            if (v != i)
            {
                Console.WriteLine($"got {v}, expected {i}");
                return 1;
            }

            if (!first && writer.Write(value) != 8)
            {
                Console.WriteLine($"no space for value {i}");
                return 6;
            }
        }

        Console.WriteLine($"done {count} lost {reader.LostBytes}");
        return 0;
    }
}
