using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using SharedLog.Nats.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SharedLog.Nats.Tests;

/// <summary>
/// Bridge-out throughput for 64-byte records against a plain JetStream publisher sending the same messages (same
/// subjects, headers and message ids, same number of acknowledgements in flight) from memory, in the same run.
/// </summary>
[Collection(NatsCollection.Name)]
public sealed class ThroughputTests(ITestOutputHelper output)
{
    [SkippableFact]
    [Trait("Category", Stress.Category)]
    public async Task Out_Throughput_AgainstAPlainJetStreamPublisher()
    {
        int count = Stress.Pick(100_000, 1_000_000);
        using var dir = new TempDirectory();
        using var server = NatsServer.Start(dir);

        // Baseline: the same messages from memory, straight to JetStream.
        var payloads = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            payloads[i] = new byte[Records.Length];
            Records.Fill(payloads[i], i);
        }

        double baseline;
        await using (var connection = new NatsConnection(new NatsOpts { Url = server.Url }))
        {
            var js = new NatsJSContext(connection);
            await js.CreateStreamAsync(new StreamConfig("BASELINE", ["baseline.>"]) { Storage = StreamConfigStorage.File });
            var window = new Queue<Task<PubAckResponse>>();
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < count; i++)
            {
                if (window.Count == 4096)
                {
                    (await window.Dequeue()).EnsureSuccess();
                }

                var headers = new NatsHeaders
                {
                    [BridgeHeaders.Source] = "baseline:0000000000000000",
                    [BridgeHeaders.Sequence] = i.ToString(CultureInfo.InvariantCulture),
                    [BridgeHeaders.TypeId] = Records.TypeIdOf(i).ToString(CultureInfo.InvariantCulture),
                };
                window.Enqueue(js.PublishAsync($"baseline.{Records.TypeIdOf(i)}", payloads[i], NatsRawSerializer<byte[]>.Default,
                    new NatsJSPubOpts { MsgId = $"baseline:0000000000000000:{i}" }, headers).AsTask());
            }

            while (window.Count > 0)
            {
                (await window.Dequeue()).EnsureSuccess();
            }

            baseline = count / clock.Elapsed.TotalSeconds;
        }

        payloads = null;
        var (writer, log) = SegmentedLog.CreateClaimed("bench", new SegmentedLogOptions { Directory = dir.Path, SegmentCapacity = 16384, RetainedCapacity = count });
        using var _ = log;
        using var __ = writer;
        Records.AppendUntil(writer, count);
        var bridge = new BridgeOut(new BridgeOutOptions { LogName = "bench", LogDirectory = dir.Path, Url = server.Url });
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var bridgeClock = Stopwatch.StartNew();
        var run = bridge.RunAsync(cts.Token);
        await BridgeOutTests.WaitForPositionAsync(bridge, count, TimeSpan.FromMinutes(5));
        double bridged = count / bridgeClock.Elapsed.TotalSeconds;
        cts.Cancel();
        await run;

        Assert.Equal((ulong)count, await JetStreamContent.CountAsync(server.Url, "SHAREDLOG_BENCH"));
        output.WriteLine($"summary: bridge-out {count} x {Records.Length} B: {bridged:F0} records/s ({count / bridged:F1} s); " +
            $"plain JetStream publisher, same messages from memory: {baseline:F0} msg/s; ratio {bridged / baseline:F2}; " +
            $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
    }
}
