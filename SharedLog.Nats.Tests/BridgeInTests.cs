using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using SharedLog.Nats.Tests.Infrastructure;

namespace SharedLog.Nats.Tests;

[Collection(NatsCollection.Name)]
public sealed class BridgeInTests
{
    private static readonly TimeSpan s_long = TimeSpan.FromSeconds(120);

    [SkippableFact]
    public async Task In_ReplaysTheStream_IntoTheLog_WithTypeIdsAndPayloads()
    {
        using var dir = new TempDirectory();
        using var server = NatsServer.Start(dir);
        await PublishAsync(server.Url, "REPLAY", 5000);

        var bridge = new BridgeIn(new BridgeInOptions
        {
            Stream = "REPLAY",
            LogName = "replayed",
            Url = server.Url,
            LogOptions = new SegmentedLogOptions { Directory = dir.Path, RetainedCapacity = 10_000 },
        });
        using var cts = new CancellationTokenSource(s_long);
        var run = bridge.RunAsync(cts.Token);
        await WaitForAsync(() => bridge.GetStatus().Position >= 5000, () => bridge.GetStatus().ToString());
        cts.Cancel();
        await run;

        AssertLogHoldsExactlyOnce(dir, "replayed", 5000);
        Assert.Equal(5000, bridge.GetStatus().Messages);
    }

    [SkippableFact]
    public async Task In_CrashBetweenAppendAndAck_ResumesAfterTheLastAppended_WithoutDuplicates()
    {
        using var dir = new TempDirectory();
        using var server = NatsServer.Start(dir);
        await PublishAsync(server.Url, "CUT", 20);

        // The state a bridge leaves when killed mid-batch: a checkpoint for stream sequences 1..8, five of their
        // records appended, nothing acknowledged.
        using (var log = SegmentedLog.Create("cut", new SegmentedLogOptions { Directory = dir.Path }))
        {
            Assert.True(log.TryClaimWriter(out var writer));
            using (writer)
            {
                byte[] checkpoint = new byte[Checkpoint.Length(8)];
                Checkpoint.Write(checkpoint, 0, [1, 2, 3, 4, 5, 6, 7, 8]);
                writer.Append(checkpoint, BridgeIn.CheckpointTypeId);
                for (ulong sequence = 1; sequence <= 5; sequence++)
                {
                    writer.Append(MessagePayload(sequence), MessageTypeId(sequence));
                }
            }

            Assert.Equal(5UL, Checkpoint.FindLastAppended(log));
        }

        ulong resumed = 0;
        var bridge = new BridgeIn(new BridgeInOptions
        {
            Stream = "CUT",
            LogName = "cut",
            Url = server.Url,
            LogOptions = new SegmentedLogOptions { Directory = dir.Path },
        })
        {
            Resumed = s => resumed = s,
        };
        using var cts = new CancellationTokenSource(s_long);
        var run = bridge.RunAsync(cts.Token);
        await WaitForAsync(() => bridge.GetStatus().Position >= 20, () => bridge.GetStatus().ToString());
        cts.Cancel();
        await run;

        Assert.Equal(6UL, resumed);
        AssertLogHoldsExactlyOnce(dir, "cut", 20);
    }

    [SkippableFact]
    [Trait("Category", Stress.Category)]
    public async Task In_BridgeKilledMidReplay_AndRestarted_NeitherLosesNorDuplicates()
    {
        int count = Stress.Pick(30_000, 300_000);
        int rounds = Stress.Pick(3, 8);
        using var dir = new TempDirectory();
        using var server = NatsServer.Start(dir);
        await PublishAsync(server.Url, "KILLED", count);
        string[] args = ["in", "--stream", "KILLED", "--log", "killed", "--dir", dir.Path, "--url", server.Url,
            "--retained", count.ToString(CultureInfo.InvariantCulture), "--batch", "100", "--status-interval", "0.1"];
        var resumedAt = new List<string>();
        for (int round = 1; round <= rounds; round++)
        {
            using var bridge = BridgeProcess.Start(args);
            resumedAt.Add(bridge.WaitForLine("resumed: ", s_long));
            long target = (long)count * round / (rounds + 1);
            await WaitForAsync(() => RecordCount(dir, "killed") >= target, () => bridge.Output);
            bridge.Kill();   // SIGKILL, between any append and its acknowledgement
        }

        using (var last = BridgeProcess.Start(args))
        {
            resumedAt.Add(last.WaitForLine("resumed: ", s_long));
            await WaitForAsync(() => RecordCount(dir, "killed") >= count, () => last.Output);
            Thread.Sleep(300);   // anything extra would land now
        }

        AssertLogHoldsExactlyOnce(dir, "killed", count);
        Assert.True(resumedAt.Skip(1).All(r => r != "resumed: 1"), "every restart resumes after what the log holds: " + string.Join(", ", resumedAt));
    }

    private static byte[] MessagePayload(ulong streamSequence)
    {
        byte[] payload = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(payload, streamSequence);
        payload.AsSpan(8).Fill((byte)streamSequence);
        return payload;
    }

    private static int MessageTypeId(ulong streamSequence) => (int)(streamSequence % 5) - 2;   // negative ids too

    /// <summary>Publishes messages 1..count (stream sequences), each with a type id header.</summary>
    private static async Task PublishAsync(string url, string stream, int count)
    {
        await using var connection = new NatsConnection(new NatsOpts { Url = url });
        var js = new NatsJSContext(connection);
        string subject = stream.ToLowerInvariant();
        await js.CreateStreamAsync(new StreamConfig(stream, [subject + ".>"]) { Storage = StreamConfigStorage.File });
        var window = new Queue<Task<PubAckResponse>>();
        for (ulong sequence = 1; sequence <= (ulong)count; sequence++)
        {
            if (window.Count == 1024)
            {
                (await window.Dequeue()).EnsureSuccess();
            }

            var headers = new NatsHeaders { [BridgeHeaders.TypeId] = MessageTypeId(sequence).ToString(CultureInfo.InvariantCulture) };
            window.Enqueue(js.PublishAsync($"{subject}.data", MessagePayload(sequence), NatsRawSerializer<byte[]>.Default, headers: headers).AsTask());
        }

        while (window.Count > 0)
        {
            (await window.Dequeue()).EnsureSuccess();
        }
    }

    private static long RecordCount(TempDirectory dir, string name)
    {
        try
        {
            using var log = SegmentedLog.Open(name, dir.Path);
            return log.GetStatus().NextSequence;
        }
        catch (SharedLogException)
        {
            return 0;
        }
    }

    /// <summary>The log's records, checkpoints aside, are stream messages 1..count, each once and in order.</summary>
    private static void AssertLogHoldsExactlyOnce(TempDirectory dir, string name, int count)
    {
        using var log = SegmentedLog.Open(name, dir.Path);
        using var snapshot = log.Snapshot();
        Assert.Equal(0, snapshot.FirstSequence);
        ulong expected = 1;
        long checkpoints = 0;
        foreach (LogRecord record in snapshot)
        {
            if (record.TypeId == BridgeIn.CheckpointTypeId)
            {
                checkpoints++;
                continue;
            }

            ulong sequence = BinaryPrimitives.ReadUInt64LittleEndian(record.Payload);
            Assert.True(sequence == expected, $"log record {record.Sequence} holds stream message {sequence}, expected {expected}");
            Assert.True(MessagePayload(sequence).AsSpan().SequenceEqual(record.Payload));
            Assert.Equal(MessageTypeId(sequence), record.TypeId);
            expected++;
        }

        Assert.Equal((ulong)count + 1, expected);
        Assert.True(checkpoints > 0);
    }

    private static async Task WaitForAsync(Func<bool> condition, Func<string> describe)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > s_long)
            {
                throw new TimeoutException($"not reached within {s_long}: {describe()}");
            }

            await Task.Delay(10);
        }
    }
}
