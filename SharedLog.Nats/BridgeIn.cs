using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace SharedLog.Nats;

/// <summary>
/// Replays a JetStream stream into a local <see cref="SegmentedLog"/> through a durable consumer: each message
/// becomes a record (payload as is, type id from <see cref="BridgeHeaders.TypeId"/>), acknowledged only once appended.
/// A restart, or a crash at any instant, neither loses nor duplicates a message.
/// </summary>
/// <remarks>
/// Design: the log itself records how far it got. Before each batch the bridge appends a checkpoint record (type id
/// <see cref="CheckpointTypeId"/>) listing the batch's stream sequences, then the batch's records, then acknowledges
/// the batch. On start it finds the last checkpoint and counts the records after it: the last appended stream
/// sequence is the one listed at that position, wherever a crash cut the batch. It then re-creates its durable
/// consumer to deliver from the next sequence, and any redelivery at or below the last appended one is acknowledged
/// and skipped. Appending and acknowledging are therefore never relied on to happen together: a crash between them
/// is repaired from the log on restart. Gap markers from a <see cref="BridgeOut"/> are counted, not appended.
/// </remarks>
public sealed class BridgeIn
{
    /// <summary>The type id of the checkpoint records the bridge interleaves; readers of the log skip it.</summary>
    public const int CheckpointTypeId = int.MinValue;

    private readonly BridgeInOptions _options;
    private readonly object _statusLock = new();
    private BridgeState _state = BridgeState.Connecting;
    private long _messages;
    private long _duplicates;
    private long _gaps;
    private long _lostRecords;
    private ulong _lastAppended;
    private long _pending;
    private long _reconnects;
    private string? _lastError;

    /// <summary>Creates a bridge; <see cref="RunAsync"/> starts it.</summary>
    public BridgeIn(BridgeInOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.Stream);
        ArgumentException.ThrowIfNullOrEmpty(options.LogName);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        _options = options;
    }

    /// <summary>Called (on the bridge's loop) with the stream sequence it resumes at, once per consumer set-up.</summary>
    public Action<ulong>? Resumed { get; set; }

    /// <summary>Reports the bridge's state; safe from any thread.</summary>
    public BridgeStatus GetStatus()
    {
        lock (_statusLock)
        {
            return new BridgeStatus(_state, _messages, _duplicates, _gaps, _lostRecords, (long)_lastAppended, _pending, 0, _reconnects, _lastError);
        }
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled; NATS failures are retried, never thrown.</summary>
    /// <exception cref="SharedLogException">The log cannot be opened or created, or another process holds its writer.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var log = SegmentedLog.OpenOrCreate(_options.LogName, _options.LogOptions);
        if (!log.TryClaimWriter(out LogWriter? writer))
        {
            throw new SharedLogException($"Log '{_options.LogName}': process {log.WriterProcessId} holds the writer; the bridge must be its only writer.");
        }

        using (writer)
        {
            ulong? found = Checkpoint.FindLastAppended(log);
            lock (_statusLock)
            {
                _lastAppended = found ?? 0;
            }

            await using var connection = BridgeConnection.Open("in", _options.LogName, _options.Url, _options.MinBackoff, _options.MaxBackoff, _options.RequestTimeout);
            var js = new NatsJSContext(connection);
            var batch = new Batch(Math.Min(_options.BatchSize, Checkpoint.MaxCount(writer.MaxPayloadLength)));
            var backoff = new Backoff(_options.MinBackoff, _options.MaxBackoff);
            bool logKnowsPosition = found is not null;
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    try
                    {
                        var consumer = await SetUpConsumerAsync(js, logKnowsPosition, cancellationToken).ConfigureAwait(false);
                        SetState(BridgeState.Connected, null);
                        backoff = new Backoff(_options.MinBackoff, _options.MaxBackoff);
                        var consumeOpts = new NatsJSConsumeOpts { MaxMsgs = Math.Max(batch.Capacity * 2, 512) };
                        var messages = consumer.ConsumeAsync(NatsRawSerializer<byte[]>.Default, consumeOpts, cancellationToken).GetAsyncEnumerator(cancellationToken);
                        await using (messages.ConfigureAwait(false))
                        {
                            while (await NextBatchAsync(messages, batch).ConfigureAwait(false))
                            {
                                Append(writer, batch);
                                logKnowsPosition = true;
                                await batch.Messages[^1].AckAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                            }
                        }
                    }
                    catch (Exception e) when (BridgeOut.IsTransient(e) && !cancellationToken.IsCancellationRequested)
                    {
                        SetState(BridgeState.Reconnecting, e.Message);
                        lock (_statusLock)
                        {
                            _reconnects++;
                        }

                        await backoff.WaitAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            finally
            {
                SetState(BridgeState.Stopped, null);
            }
        }
    }

    /// <summary>
    /// (Re)creates the durable consumer so that it delivers from the message after the last one appended: the log is
    /// the authority; the consumer's own acknowledgement floor only when the log holds no checkpoint.
    /// </summary>
    private async Task<INatsJSConsumer> SetUpConsumerAsync(NatsJSContext js, bool logKnowsPosition, CancellationToken cancellationToken)
    {
        ulong lastAppended;
        lock (_statusLock)
        {
            lastAppended = _lastAppended;
        }

        ulong? start = logKnowsPosition ? lastAppended + 1 : null;
        try
        {
            var existing = await js.GetConsumerAsync(_options.Stream, _options.ConsumerName, cancellationToken).ConfigureAwait(false);
            if (start is null && existing.Info.AckFloor?.StreamSeq is > 0 and var floor)
            {
                start = floor + 1;
            }

            await js.DeleteConsumerAsync(_options.Stream, _options.ConsumerName, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException e) when (e.Error.ErrCode == JetStreamErrors.ConsumerNotFound)
        {
        }

        var config = new ConsumerConfig(_options.ConsumerName)
        {
            AckPolicy = ConsumerConfigAckPolicy.All,
            AckWait = TimeSpan.FromSeconds(30),
            MaxAckPending = Math.Max(1000, _options.BatchSize * 4),
        };
        if (_options.FilterSubject is { Length: > 0 } filter)
        {
            config.FilterSubject = filter;
        }

        start ??= _options.StartSequence;
        if (start is { } sequence)
        {
            config.DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence;
            config.OptStartSeq = sequence;
        }
        else if (_options.StartTime is { } time)
        {
            config.DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartTime;
            config.OptStartTime = time;
        }
        else
        {
            config.DeliverPolicy = ConsumerConfigDeliverPolicy.All;
        }

        var consumer = await js.CreateOrUpdateConsumerAsync(_options.Stream, config, cancellationToken).ConfigureAwait(false);
        Resumed?.Invoke(start ?? 0);
        return consumer;
    }

    /// <summary>Waits for one message, then takes whatever else has already arrived, up to the batch's capacity.</summary>
    private static async ValueTask<bool> NextBatchAsync(IAsyncEnumerator<INatsJSMsg<byte[]>> messages, Batch batch)
    {
        batch.Clear();
        var first = batch.Pending ?? messages.MoveNextAsync();
        batch.Pending = null;
        if (!await first.ConfigureAwait(false))
        {
            return false;
        }

        batch.Messages.Add(messages.Current);
        while (batch.Count < batch.Capacity)
        {
            var next = messages.MoveNextAsync();
            if (!next.IsCompleted)
            {
                // Nothing more buffered: append what we have. The pending MoveNext is awaited next time round.
                batch.Pending = next;
                break;
            }

            if (!next.Result)
            {
                break;
            }

            batch.Messages.Add(messages.Current);
        }

        return true;
    }

    /// <summary>Appends the new messages of a batch behind a checkpoint that lists them; skips redeliveries and gap markers.</summary>
    private void Append(LogWriter writer, Batch batch)
    {
        ulong lastAppended;
        lock (_statusLock)
        {
            lastAppended = _lastAppended;
        }

        batch.Sequences.Clear();
        long duplicates = 0;
        long gaps = 0;
        long lost = 0;
        foreach (var message in batch.Messages)
        {
            ulong sequence = message.Metadata?.Sequence.Stream ?? 0;
            if (sequence <= lastAppended)
            {
                duplicates++;
            }
            else if (GapCountOf(message.Headers) is { } count)
            {
                gaps++;
                lost += count;
            }
            else
            {
                batch.Sequences.Add(sequence);
            }
        }

        if (batch.Sequences.Count > 0)
        {
            byte[] checkpoint = new byte[Checkpoint.Length(batch.Sequences.Count)];
            Checkpoint.Write(checkpoint, lastAppended, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batch.Sequences));
            writer.Append(checkpoint, CheckpointTypeId);
            foreach (var message in batch.Messages)
            {
                ulong sequence = message.Metadata?.Sequence.Stream ?? 0;
                if (sequence > lastAppended && GapCountOf(message.Headers) is null)
                {
                    writer.Append(message.Data ?? [], TypeIdOf(message.Headers));
                }
            }

            lastAppended = batch.Sequences[^1];
        }

        lock (_statusLock)
        {
            _lastAppended = lastAppended;
            _messages += batch.Sequences.Count;
            _duplicates += duplicates;
            _gaps += gaps;
            _lostRecords += lost;
            _pending = (long)(batch.Messages[^1].Metadata?.NumPending ?? 0);
        }
    }

    private static long? GapCountOf(NatsHeaders? headers)
        => headers is not null && headers.TryGetLastValue(BridgeHeaders.GapCount, out string? text)
            ? long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long count) ? count : 0
            : null;

    private static int TypeIdOf(NatsHeaders? headers)
        => headers is not null && headers.TryGetLastValue(BridgeHeaders.TypeId, out string? text)
            && int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int typeId)
            && typeId != CheckpointTypeId
            ? typeId
            : 0;

    private void SetState(BridgeState state, string? error)
    {
        lock (_statusLock)
        {
            _state = state;
            if (error is not null)
            {
                _lastError = error;
            }
        }
    }

    private sealed class Batch(int capacity)
    {
        public int Capacity { get; } = capacity;

        public List<INatsJSMsg<byte[]>> Messages { get; } = new(capacity);

        public List<ulong> Sequences { get; } = new(capacity);

        public int Count => Messages.Count;

        /// <summary>A read of the next message started, not finished, by the previous batch.</summary>
        public ValueTask<bool>? Pending { get; set; }

        public void Clear()
        {
            Messages.Clear();
            Sequences.Clear();
        }
    }
}
