using System.Diagnostics;
using SharedLog.Nats.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SharedLog.Nats.Tests;

[Collection(NatsCollection.Name)]
public sealed class BridgeOutTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_long = TimeSpan.FromSeconds(120);

    [SkippableFact]
    [Trait("Category", Stress.Category)]
    public async Task Out_PublishesEveryRecord_InOrder_WithSequenceTypeIdAndPayload()
    {
        int count = Stress.Pick(200_000, 1_000_000);
        using var dir = new TempDirectory();
        using var server = NatsServer.Start(dir);
        var (writer, log) = SegmentedLog.CreateClaimed("ticks", new SegmentedLogOptions
        {
            Directory = dir.Path,
            SegmentCapacity = 16384,
            RetainedCapacity = count,
        });
        using var _ = log;
        using var __ = writer;
        Records.AppendUntil(writer, count);

        var bridge = new BridgeOut(new BridgeOutOptions { LogName = "ticks", LogDirectory = dir.Path, Url = server.Url });
        using var cts = new CancellationTokenSource(s_long);
        var clock = Stopwatch.StartNew();
        var run = bridge.RunAsync(cts.Token);
        await WaitForPositionAsync(bridge, count, s_long);
        var elapsed = clock.Elapsed;
        cts.Cancel();
        await run;

        var messages = await JetStreamContent.ReadAllAsync(server.Url, "SHAREDLOG_TICKS", s_long);
        Assert.Equal(count, messages.Count);
        var gaps = JetStreamContent.AssertExactlyOnce(messages, count, inOrder: true);
        Assert.Empty(gaps);
        foreach (var message in messages)
        {
            Records.AssertIntact(message);
            Assert.Equal($"sharedlog.ticks.{Records.TypeIdOf(message.Sequence)}", message.Subject);
        }

        var status = bridge.GetStatus();
        Assert.Equal(count, status.Messages);
        Assert.Equal(0, status.Duplicates);
        output.WriteLine($"bridged {count} records of {Records.Length} B in {elapsed.TotalSeconds:F2} s: {count / elapsed.TotalSeconds:F0} records/s");
    }

    [SkippableFact]
    public async Task Out_Restarted_ResumesAfterTheLastStoredMessage_AndNothingTwice()
    {
        using var dir = new TempDirectory();
        using var server = NatsServer.Start(dir);
        var (writer, log) = SegmentedLog.CreateClaimed("orders", new SegmentedLogOptions { Directory = dir.Path, RetainedCapacity = 10_000 });
        using var _ = log;
        using var __ = writer;
        Records.AppendUntil(writer, 1000);
        await RunUntilAsync(server, dir, 1000);
        Records.AppendUntil(writer, 2500);
        long resumed = -1;
        await RunUntilAsync(server, dir, 2500, b => b.Resumed = s => resumed = s);

        Assert.Equal(1000, resumed);
        var messages = await JetStreamContent.ReadAllAsync(server.Url, "SHAREDLOG_ORDERS", s_long);
        Assert.Equal(2500, messages.Count);
        Assert.Empty(JetStreamContent.AssertExactlyOnce(messages, 2500, inOrder: true));
    }

    [SkippableFact]
    public async Task Out_LogRecreated_StartsAgainUnderNewMessageIds()
    {
        using var dir = new TempDirectory();
        using var server = NatsServer.Start(dir);
        var options = new SegmentedLogOptions { Directory = dir.Path };
        ulong first;
        using (var created = SegmentedLog.Create("jobs", options))
        {
            Assert.True(created.TryClaimWriter(out var writer));
            using (writer)
            {
                Records.AppendUntil(writer, 100);
            }

            first = LogIdentity.Of(created, "jobs").Incarnation;
            await RunUntilAsync(server, dir, 100, name: "jobs");
        }

        Assert.True(SegmentedLog.Delete("jobs", dir.Path));
        Thread.Sleep(5);   // the identity includes the creation time in ms
        using var again = SegmentedLog.Create("jobs", options);
        Assert.NotEqual(first, LogIdentity.Of(again, "jobs").Incarnation);
        Assert.True(again.TryClaimWriter(out var second));
        using (second)
        {
            Records.AppendUntil(second, 40);
        }

        long resumed = -1;
        await RunUntilAsync(server, dir, 40, b => b.Resumed = s => resumed = s, name: "jobs");
        Assert.Equal(0, resumed);
        Assert.Equal(140UL, await JetStreamContent.CountAsync(server.Url, "SHAREDLOG_JOBS"));
    }

    [SkippableFact]
    public async Task Out_ReaderLappedUnderEvict_PublishesAGapMarker_WithTheLostRange()
    {
        using var dir = new TempDirectory();
        using var server = NatsServer.Start(dir);
        var (writer, log) = SegmentedLog.CreateClaimed("quotes", new SegmentedLogOptions
        {
            Directory = dir.Path,
            SegmentCapacity = 64,
            RetainedCapacity = 256,
            SpareSegments = 1,
            SlowReaderPolicy = SlowReaderPolicy.Evict,
        });
        using var _ = log;
        using var __ = writer;
        Records.AppendUntil(writer, 100);
        using var bridge = BridgeProcess.Start("out", "--log", "quotes", "--dir", dir.Path, "--url", server.Url, "--status-interval", "0.1");
        bridge.WaitForLine("resumed: 0", s_long);
        await JetStreamContent.WaitForCountAsync(server.Url, "SHAREDLOG_QUOTES", 100, s_long);

        // Freeze the bridge and lap its reader many times over, then let it go on.
        Signals.Send(bridge.Pid, Signals.SigStop);
        try
        {
            Records.AppendUntil(writer, 5000);
        }
        finally
        {
            Signals.Send(bridge.Pid, Signals.SigCont);
        }

        var deadline = Stopwatch.StartNew();
        while (!bridge.Output.Contains("position=5000 ", StringComparison.Ordinal) && deadline.Elapsed < s_long)
        {
            Thread.Sleep(20);
        }

        bridge.Kill();
        var messages = await JetStreamContent.ReadAllAsync(server.Url, "SHAREDLOG_QUOTES", s_long);
        var gaps = JetStreamContent.AssertExactlyOnce(messages, 5000, inOrder: true);
        var gap = Assert.Single(gaps);
        Assert.Equal(100, gap.GapFrom);   // nothing after 99 was read before the freeze
        Assert.InRange(gap.GapCount, 5000 - 100 - ((256 + 64 + 64) * 2), 5000 - 100 - 1);
        Assert.Equal("sharedlog.quotes.gap", gap.Subject);
        Assert.Equal(gap.GapFrom + gap.GapCount - 1, gap.Sequence);
        Assert.Contains($"gaps=1 lost={gap.GapCount} ", bridge.Output, StringComparison.Ordinal);
        foreach (var message in messages.Where(m => !m.IsGap))
        {
            Records.AssertIntact(message);
        }
    }

    [SkippableFact]
    [Trait("Category", Stress.Category)]
    public async Task Out_BridgeKilledMidStream_AndRestarted_StreamHoldsEachSequenceOnce()
    {
        int count = Stress.Pick(100_000, 1_000_000);
        int rounds = Stress.Pick(2, 6);
        using var dir = new TempDirectory();
        using var server = NatsServer.Start(dir);
        var (writer, log) = SegmentedLog.CreateClaimed("fills", new SegmentedLogOptions
        {
            Directory = dir.Path,
            SegmentCapacity = 4096,
            RetainedCapacity = count,
        });
        using var _ = log;
        using var __ = writer;
        Records.AppendUntil(writer, count / 2);
        string[] args = ["out", "--log", "fills", "--dir", dir.Path, "--url", server.Url, "--status-interval", "0.2"];
        var resumedAt = new List<string>();
        for (int round = 1; round <= rounds; round++)
        {
            using var bridge = BridgeProcess.Start(args);
            resumedAt.Add(bridge.WaitForLine("resumed: ", s_long));
            ulong target = (ulong)(count / 2 * round / rounds / 2) + 1;
            await JetStreamContent.WaitForCountAsync(server.Url, "SHAREDLOG_FILLS", target, s_long);
            bridge.Kill();   // SIGKILL with publishes in flight
            if (round == rounds / 2)
            {
                Records.AppendUntil(writer, count);
            }
        }

        Records.AppendUntil(writer, count);
        using (var last = BridgeProcess.Start(args))
        {
            resumedAt.Add(last.WaitForLine("resumed: ", s_long));
            await JetStreamContent.WaitForCountAsync(server.Url, "SHAREDLOG_FILLS", (ulong)count, s_long);
            Thread.Sleep(300);   // anything extra would land now
        }

        var messages = await JetStreamContent.ReadAllAsync(server.Url, "SHAREDLOG_FILLS", s_long);
        output.WriteLine(string.Join(", ", resumedAt));
        Assert.Equal(count, messages.Count);
        Assert.Empty(JetStreamContent.AssertExactlyOnce(messages, count, inOrder: true));
        Assert.True(resumedAt.Skip(1).All(r => r != "resumed: 0"), "every restart resumes after what the stream holds: " + string.Join(", ", resumedAt));
    }

    [SkippableFact]
    public async Task Out_NatsServerKilledAndRestarted_UnderBlock_NothingLostOrDuplicated()
    {
        int count = Stress.Pick(60_000, 300_000);
        using var dir = new TempDirectory();
        using var server = NatsServer.Start(dir);
        var (writer, log) = SegmentedLog.CreateClaimed("trades", new SegmentedLogOptions
        {
            Directory = dir.Path,
            SegmentCapacity = 1024,
            RetainedCapacity = 4096,   // far smaller than the run: the writer must wait for the bridge
            SlowReaderPolicy = SlowReaderPolicy.Block,
            SlowReaderTimeout = TimeSpan.FromSeconds(60),
        });
        using var _ = log;
        using var __ = writer;
        var bridge = new BridgeOut(new BridgeOutOptions
        {
            LogName = "trades",
            LogDirectory = dir.Path,
            Url = server.Url,
            MaxBackoff = TimeSpan.FromMilliseconds(500),
            RequestTimeout = TimeSpan.FromSeconds(2),
        });
        var resumed = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        bridge.Resumed = s => resumed.TrySetResult(s);
        using var cts = new CancellationTokenSource(s_long * 2);
        var run = bridge.RunAsync(cts.Token);
        Assert.Equal(0, await resumed.Task.WaitAsync(s_long));   // the bridge's reader exists: from now on it holds the writer
        var append = Task.Run(() => Records.AppendUntil(writer, count));
        try
        {
            await JetStreamContent.WaitForCountAsync(server.Url, "SHAREDLOG_TRADES", (ulong)count / 3, s_long);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; bridge: {bridge.GetStatus()}; writer at {writer.NextSequence}; run: {run.Status} {run.Exception}", e);
        }

        server.Kill();
        var outage = Stopwatch.StartNew();
        while (bridge.GetStatus().State != BridgeState.Reconnecting && outage.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10);
        }

        long heldAt = writer.NextSequence;
        await Task.Delay(1500);
        Assert.Equal(BridgeState.Reconnecting, bridge.GetStatus().State);
        Assert.True(writer.NextSequence - heldAt <= 4096 + (3 * 1024), $"the writer went on {writer.NextSequence - heldAt} records while NATS was down");
        server.Restart();

        await append.WaitAsync(s_long);
        await WaitForPositionAsync(bridge, count, s_long);
        var status = bridge.GetStatus();
        cts.Cancel();
        await run;

        var messages = await JetStreamContent.ReadAllAsync(server.Url, "SHAREDLOG_TRADES", s_long);
        output.WriteLine($"status after the outage: {status}");
        Assert.True(status.Reconnects >= 1, status.ToString());
        Assert.Equal(0, status.Gaps);
        Assert.Equal(count, messages.Count);
        Assert.Empty(JetStreamContent.AssertExactlyOnce(messages, count, inOrder: false));
    }

    [SkippableFact]
    public async Task Out_EndsWhenTheLogIsCompleted_AfterPublishingEverything()
    {
        using var dir = new TempDirectory();
        using var server = NatsServer.Start(dir);
        var (writer, log) = SegmentedLog.CreateClaimed("done", new SegmentedLogOptions { Directory = dir.Path, RetainedCapacity = 10_000 });
        using var _ = log;
        using (writer)
        {
            Records.AppendUntil(writer, 500);
            writer.Complete();
        }

        var bridge = new BridgeOut(new BridgeOutOptions { LogName = "done", LogDirectory = dir.Path, Url = server.Url });
        using var cts = new CancellationTokenSource(s_long);
        await bridge.RunAsync(cts.Token);

        // RunAsync returned by itself, not by cancellation, once every record was published and acknowledged.
        Assert.False(cts.IsCancellationRequested);
        var messages = await JetStreamContent.ReadAllAsync(server.Url, "SHAREDLOG_DONE", s_long);
        Assert.Empty(JetStreamContent.AssertExactlyOnce(messages, 500, inOrder: true));
    }

    private static async Task RunUntilAsync(NatsServer server, TempDirectory dir, long position, Action<BridgeOut>? configure = null, string name = "orders")
    {
        var bridge = new BridgeOut(new BridgeOutOptions { LogName = name, LogDirectory = dir.Path, Url = server.Url });
        configure?.Invoke(bridge);
        using var cts = new CancellationTokenSource(s_long);
        var run = bridge.RunAsync(cts.Token);
        await WaitForPositionAsync(bridge, position, s_long);
        cts.Cancel();
        await run;
    }

    internal static async Task WaitForPositionAsync(BridgeOut bridge, long position, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (bridge.GetStatus().Position < position)
        {
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"bridge status after {timeout}: {bridge.GetStatus()}");
            }

            await Task.Delay(5);
        }
    }
}
