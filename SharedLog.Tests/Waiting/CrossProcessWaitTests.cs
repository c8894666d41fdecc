using System.Diagnostics;
using System.Globalization;
using SharedLog.Tests.Infrastructure;
using SharedLog.Platform;
using SharedLog.Waiting;
using Xunit.Abstractions;

namespace SharedLog.Tests.Waiting;

/// <summary>Blocking waits between real processes on real mapped files (Linux futexes).</summary>
public sealed class CrossProcessWaitTests : IDisposable
{
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public CrossProcessWaitTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    private SegmentedLogOptions Options(SlowReaderPolicy policy = SlowReaderPolicy.Block, int segment = 1024, long retained = 4096, int spare = 2)
        => new()
        {
            SegmentCapacity = segment,
            RetainedCapacity = retained,
            SpareSegments = spare,
            SlowReaderPolicy = policy,
            SlowReaderTimeout = TimeSpan.FromSeconds(60),
            Directory = _dir.Path,
        };

    [SkippableFact]
    public void Blocked_readers_use_almost_no_cpu_and_wake_when_one_record_is_appended()
    {
        Skip.IfNot(OperatingSystem.IsLinux());
        var (writer, log) = SegmentedLog.CreateClaimed("idle", Options());
        using (writer)
        using (log)
        {
            using var sync = Child.Start("wait-idle-reader", _dir.Path, "idle", "sync");
            using var async = Child.Start("wait-idle-reader", _dir.Path, "idle", "async");
            sync.WaitForLine("ready", ChildTimeout);
            async.WaitForLine("ready", ChildTimeout);
            Thread.Sleep(2000);
            writer.Append(42L);

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
                Assert.True(cpuMs < 0.2 * wallMs, $"a blocked reader used {cpuMs} ms of CPU in {wallMs} ms: {line}");
            }
        }
    }

    [SkippableFact]
    [Trait("Category", Stress.Category)]
    public void Blocking_ping_pong_between_two_processes_never_stalls()
    {
        Skip.IfNot(OperatingSystem.IsLinux());
        RunPingPong("sync", Stress.Pick(100_000, 1_000_000));
    }

    [SkippableFact]
    [Trait("Category", Stress.Category)]
    public void Async_ping_pong_between_two_processes_never_stalls()
    {
        Skip.IfNot(OperatingSystem.IsLinux());
        RunPingPong("async", Stress.Pick(20_000, 200_000));
    }

    /// <summary>
    /// One side opted out of asymmetric fences (it fences on every append and is not registered), the other did not
    /// (it appends without a fence and relies on the sleeper's membarrier): every sleep of the opted-out side must
    /// still run the barrier, or a wake-up from the registered side can be lost (60 s sleep slices stall the run).
    /// </summary>
    [SkippableFact]
    [Trait("Category", Stress.Category)]
    public void Blocking_ping_pong_with_one_side_opted_out_of_asymmetric_fences_never_stalls()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && AsymmetricFence.IsEnabled, "needs membarrier global expedited");
        RunPingPong("sync", Stress.Pick(100_000, 1_000_000), optOutSecond: true);
    }

    [SkippableFact]
    public void Writer_blocked_for_space_wakes_when_the_slowest_reader_in_another_process_advances()
    {
        Skip.IfNot(OperatingSystem.IsLinux());

        // Two slots of four records: the writer fills generations 0 and 1, then needs slot 0, which the reader pins.
        var (writer, log) = SegmentedLog.CreateClaimed("space", Options(segment: 4, retained: 4, spare: 0));
        using (log)
        using (writer)
        {
            using var reader = Child.Start("wait-slow-reader", _dir.Path, "space");
            reader.WaitForLine("ready", ChildTimeout);
            for (long i = 0; i < 8; i++)
            {
                writer.Append(i);
            }

            Assert.False(writer.TryAppend(BitConverter.GetBytes(8L), out _), "the writer should have to wait for the reader");
            writer.IdleStrategy = IdleStrategy.CreateBlocking(spinCount: 0);
            var append = Task.Factory.StartNew(() => writer.Append(8L), TaskCreationOptions.LongRunning);

            // The writer set the need-wakeup flag: it sleeps, or is about to, on the space signal.
            var deadline = Stopwatch.StartNew();
            while (!log.File.Shared.SpaceSignal.NeedsWake && !append.IsCompleted && deadline.Elapsed < ChildTimeout)
            {
                Thread.Sleep(1);
            }

            Assert.False(append.IsCompleted, "the writer should still be blocked");
            reader.WriteLine("advance");
            Assert.True(append.Wait(ChildTimeout), "the writer stayed blocked after the reader advanced");
            Assert.Equal(8, append.Result);
            writer.Append(-1L);

            string line = reader.WaitForLine("done ", ChildTimeout);
            reader.AssertSuccess(ChildTimeout);
            Assert.Equal("done records 10 lost 0", line[..line.IndexOf(" wakes", StringComparison.Ordinal)]);
            long wakes = long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            Assert.True(wakes >= 1, $"the reader never woke the sleeping writer: {line}");
        }
    }

    [SkippableFact]
    public void Need_wakeup_flag_left_by_a_killed_sleeper_is_cleared_by_the_next_append()
    {
        Skip.IfNot(OperatingSystem.IsLinux());
        var (writer, log) = SegmentedLog.CreateClaimed("killed", Options());
        using (writer)
        using (log)
        {
            var signal = log.File.Shared.DataSignal;
            using (var child = Child.Start("wait-idle-reader", _dir.Path, "killed", "sync"))
            {
                child.WaitForLine("ready", ChildTimeout);
                var deadline = Stopwatch.StartNew();
                while (!signal.NeedsWake && deadline.Elapsed < ChildTimeout)
                {
                    Thread.Sleep(1);
                }

                Assert.True(signal.NeedsWake, "the child should sleep with the flag set");
                child.Kill();
            }

            Assert.True(signal.NeedsWake);
            writer.Append(1L);
            Assert.False(signal.NeedsWake);
            Assert.Equal(1, signal.WakeCount);
            for (long i = 0; i < 100; i++)
            {
                writer.Append(i);
            }

            Assert.Equal(1, signal.WakeCount);
        }
    }

    private void RunPingPong(string mode, int count, bool optOutSecond = false)
    {
        using (SegmentedLog.Create("ping", Options()))
        using (SegmentedLog.Create("pong", Options()))
        {
            string n = count.ToString(CultureInfo.InvariantCulture);
            var secondEnvironment = optOutSecond ? new Dictionary<string, string?> { ["SHAREDLOG_SYMMETRIC_FENCES"] = "1" } : null;
            using var first = Child.Start("wait-ping-pong", _dir.Path, "pong", "ping", n, mode, "first");
            using var second = Child.Start("wait-ping-pong", secondEnvironment, _dir.Path, "ping", "pong", n, mode, "second");

            // Each wait is bounded (30 s) and sleeps are one long slice, so a lost wake-up fails the child instead of
            // being hidden by a periodic re-check.
            var timeout = TimeSpan.FromSeconds(Stress.Enabled ? 600 : 120);
            first.AssertSuccess(timeout);
            second.AssertSuccess(timeout);
            Assert.Contains($"done {count}", first.Output, StringComparison.Ordinal);
            Assert.Contains($"done {count}", second.Output, StringComparison.Ordinal);

            // On Linux 4.16+ the appends above paid no fence: the sleepers' membarrier stood in for it (AsymmetricFence),
            // and with 60 s sleep slices a lost wake-up would have stalled the run.
            bool asymmetric = OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("SHAREDLOG_SYMMETRIC_FENCES") != "1";
            Assert.Contains($"asymmetric {asymmetric}", first.Output, StringComparison.Ordinal);
            Assert.Contains($"asymmetric {asymmetric && !optOutSecond}", second.Output, StringComparison.Ordinal);
        }
    }

    /// <summary>args: directory, name, sync|async. Waits for one record from the latest position and reports its own CPU time.</summary>
    [ChildRole("wait-idle-reader")]
    public static int IdleReader(string[] args)
    {
        using var log = SegmentedLog.Open(args[1], args[0]);
        using var reader = log.CreateReader(ReadFrom.Latest);
        bool async = args[2] == "async";

        // Warm up both paths, so JIT compilation does not count as waiting.
        _ = reader.Wait(TimeSpan.FromMilliseconds(20));
        _ = reader.WaitAsync(TimeSpan.FromMilliseconds(20)).AsTask().GetAwaiter().GetResult();

        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        Console.WriteLine("ready");
        bool woke = async
            ? reader.WaitAsync(TimeSpan.FromSeconds(60)).AsTask().GetAwaiter().GetResult()
            : reader.Wait(TimeSpan.FromSeconds(60));
        double wallMs = wall.Elapsed.TotalMilliseconds;
        process.Refresh();
        double cpuMs = (process.TotalProcessorTime - cpu).TotalMilliseconds;
        if (!woke || !reader.TryRead(out var record))
        {
            Console.WriteLine($"no record: woke {woke}");
            return 1;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"got {record.Read<long>()} cpu {cpuMs:F1} wall {wallMs:F1}"));
        return 0;
    }

    /// <summary>
    /// args: directory, in-log, out-log, count, sync|async, first|second. Each side blocks (no spin) for the other's
    /// record i, then appends its own; the first side appends before it waits.
    /// </summary>
    [ChildRole("wait-ping-pong")]
    public static int PingPong(string[] args)
    {
        Futex.SliceMs = 60_000;
        using var input = SegmentedLog.Open(args[1], args[0]);
        using var output = SegmentedLog.Open(args[2], args[0]);
        long count = long.Parse(args[3], CultureInfo.InvariantCulture);
        bool async = args[4] == "async";
        bool first = args[5] == "first";
        using var reader = input.CreateReader(ReadFrom.Oldest, IdleStrategy.CreateBlocking(spinCount: 0));
        var claimed = Stopwatch.StartNew();
        LogWriter? claimedWriter;
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
        for (long i = 0; i < count; i++)
        {
            if (first)
            {
                writer.Append(i);
            }

            LogRecord record;
            while (!reader.TryRead(out record))
            {
                bool woke = async
                    ? reader.WaitAsync(TimeSpan.FromSeconds(30)).AsTask().GetAwaiter().GetResult()
                    : reader.Wait(TimeSpan.FromSeconds(30));
                if (!woke)
                {
                    Console.WriteLine($"stalled waiting for record {i}");
                    return 4;
                }
            }

            if (record.Read<long>() != i)
            {
                Console.WriteLine($"got {record.Read<long>()}, expected {i}");
                return 1;
            }

            if (!first)
            {
                writer.Append(i);
            }
        }

        Console.WriteLine($"done {count} asymmetric {AsymmetricFence.IsEnabled}");
        return 0;
    }

    /// <summary>args: directory, name. Pins the oldest segment until told to advance, then reads to the end marker (-1).</summary>
    [ChildRole("wait-slow-reader")]
    public static int SlowReader(string[] args)
    {
        using var log = SegmentedLog.Open(args[1], args[0]);
        using var reader = log.CreateReader(ReadFrom.Oldest);
        Console.WriteLine("ready");
        if (Console.ReadLine() != "advance")
        {
            return 2;
        }

        long records = 0;
        while (true)
        {
            if (!reader.TryRead(out var record))
            {
                if (!reader.Wait(TimeSpan.FromSeconds(30)))
                {
                    Console.WriteLine("stalled");
                    return 4;
                }

                continue;
            }

            records++;
            if (record.Read<long>() == -1)
            {
                break;
            }
        }

        Console.WriteLine($"done records {records} lost {reader.LostCount} wakes {log.File.Shared.SpaceSignal.WakeCount}");
        return 0;
    }
}
