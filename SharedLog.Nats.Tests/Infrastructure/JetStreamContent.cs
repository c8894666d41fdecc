using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace SharedLog.Nats.Tests.Infrastructure;

/// <summary>One message as a JetStream consumer sees it, with the bridge's headers decoded.</summary>
public sealed record BridgedMessage(ulong StreamSequence, string Subject, long Sequence, int TypeId, long GapFrom, long GapCount, byte[] Data)
{
    public bool IsGap => GapCount > 0;
}

/// <summary>Reads a stream back through a real JetStream consumer (an ordered one), and polls its state.</summary>
public static class JetStreamContent
{
    public static async Task<ulong> CountAsync(string url, string stream)
    {
        await using var connection = new NatsConnection(new NatsOpts { Url = url });
        var js = new NatsJSContext(connection);
        var info = await js.GetStreamAsync(stream);
        return (ulong)info.Info.State.Messages;
    }

    /// <summary>Polls until the stream holds at least <paramref name="count"/> messages; fails after <paramref name="timeout"/>.</summary>
    public static async Task WaitForCountAsync(string url, string stream, ulong count, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        ulong seen = 0;
        while (deadline.Elapsed < timeout)
        {
            try
            {
                seen = await CountAsync(url, stream);
                if (seen >= count)
                {
                    return;
                }
            }
            catch (NatsJSApiException)
            {
            }
            catch (NatsException)
            {
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"stream {stream} holds {seen} messages, not {count}, after {timeout}");
    }

    /// <summary>Every message of the stream, in stream order.</summary>
    public static async Task<List<BridgedMessage>> ReadAllAsync(string url, string stream, TimeSpan timeout)
    {
        await using var connection = new NatsConnection(new NatsOpts { Url = url, SubPendingChannelCapacity = 65536 });
        var js = new NatsJSContext(connection);
        var info = await js.GetStreamAsync(stream);
        ulong total = (ulong)info.Info.State.Messages;
        var messages = new List<BridgedMessage>((int)total);
        if (total == 0)
        {
            return messages;
        }

        using var cts = new CancellationTokenSource(timeout);
        var consumer = await js.CreateOrderedConsumerAsync(stream, new NatsJSOrderedConsumerOpts { DeliverPolicy = ConsumerConfigDeliverPolicy.All }, cts.Token);
        await foreach (var message in consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, new NatsJSConsumeOpts { MaxMsgs = 10_000 }, cts.Token))
        {
            messages.Add(Decode(message));
            if ((ulong)messages.Count >= total)
            {
                break;
            }
        }

        return messages;
    }

    private static BridgedMessage Decode(INatsJSMsg<byte[]> message)
    {
        var headers = message.Headers;
        return new BridgedMessage(
            message.Metadata?.Sequence.Stream ?? 0,
            message.Subject,
            Header(headers, BridgeHeaders.Sequence) ?? -1,
            (int)(Header(headers, BridgeHeaders.TypeId) ?? 0),
            Header(headers, BridgeHeaders.GapFrom) ?? -1,
            Header(headers, BridgeHeaders.GapCount) ?? 0,
            message.Data ?? []);
    }

    private static long? Header(NatsHeaders? headers, string key)
        => headers is not null && headers.TryGetLastValue(key, out string? text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)
            ? value
            : null;

    /// <summary>
    /// Asserts that the data messages carry each log sequence of <c>[0, count)</c> exactly once; returns the gap markers.
    /// Optionally also that they arrive in order.
    /// </summary>
    public static List<BridgedMessage> AssertExactlyOnce(List<BridgedMessage> messages, long count, bool inOrder)
    {
        var seen = new bool[count];
        long previous = -1;
        var gaps = new List<BridgedMessage>();
        foreach (var message in messages)
        {
            if (message.IsGap)
            {
                gaps.Add(message);
                continue;
            }

            Assert.InRange(message.Sequence, 0, count - 1);
            Assert.False(seen[message.Sequence], $"log sequence {message.Sequence} appears twice (stream sequence {message.StreamSequence})");
            seen[message.Sequence] = true;
            if (inOrder)
            {
                Assert.True(message.Sequence > previous, $"log sequence {message.Sequence} after {previous}");
            }

            previous = message.Sequence;
        }

        long lost = gaps.Sum(g => g.GapCount);
        long missing = seen.LongCount(s => !s);
        Assert.True(lost == missing, $"{missing} sequences missing, {lost} covered by gap markers; missing: {Ranges(seen)}");
        return gaps;
    }

    private static string Ranges(bool[] seen)
    {
        var ranges = new List<string>();
        for (long i = 0; i < seen.Length && ranges.Count < 20; i++)
        {
            if (!seen[i])
            {
                long start = i;
                while (i + 1 < seen.Length && !seen[i + 1])
                {
                    i++;
                }

                ranges.Add($"[{start}, {i}]");
            }
        }

        return string.Join(", ", ranges);
    }
}
