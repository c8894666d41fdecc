using System.Diagnostics;
using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace SharedLog.Nats;

/// <summary>
/// Tails a <see cref="SegmentedLog"/> and publishes each record to a JetStream stream, exactly once per log
/// incarnation and sequence, resuming after the last message the stream holds.
/// </summary>
/// <remarks>
/// Design: one loop owns the log reader and a bounded window of publishes in flight (sent, acknowledgement pending),
/// retired strictly in order. Each message carries the payload as is and headers with the log sequence, the type id
/// and the log's identity; its <c>Nats-Msg-Id</c> is identity + sequence, so JetStream drops a re-publish inside its
/// duplicate window. On start the bridge reads the last message on its subjects (<see cref="SubjectTemplate.Filter"/>):
/// if it came from this incarnation, it resumes right after its sequence. A record the reader lost (lapped under
/// <see cref="SlowReaderPolicy.Evict"/>, or evicted after <see cref="SegmentedLogOptions.SlowReaderTimeout"/> under
/// Block) shows up as a jump in sequence numbers and is published as a gap marker. When a publish fails, the loop lets
/// every publish in flight settle, waits with backoff until JetStream answers again, and re-publishes the ones not
/// acknowledged, with their message ids. While it waits it does not read, so under Block it holds the writer up to the
/// log's timeout and no longer: the log evicts it and the loss becomes a gap marker.
/// </remarks>
public sealed class BridgeOut
{
    private readonly BridgeOutOptions _options;
    private readonly object _statusLock = new();
    private BridgeState _state = BridgeState.Connecting;
    private long _messages;
    private long _duplicates;
    private long _gaps;
    private long _lostRecords;
    private long _position;
    private int _inFlight;
    private long _reconnects;
    private string? _lastError;
    private SegmentedLog? _log;

    /// <summary>Creates a bridge; <see cref="RunAsync"/> starts it.</summary>
    public BridgeOut(BridgeOutOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.LogName);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxInFlight, 1);
        _options = options;
        Subjects = new SubjectTemplate(options.SubjectTemplate, options.LogName);
    }

    /// <summary>The subjects this bridge publishes to.</summary>
    public SubjectTemplate Subjects { get; }

    /// <summary>Called (on the bridge's loop) with the sequence it resumes at, once per start.</summary>
    public Action<long>? Resumed { get; set; }

    /// <summary>Reports the bridge's state; safe from any thread.</summary>
    public BridgeStatus GetStatus()
    {
        long head = -1;
        try
        {
            head = _log?.GetStatus().NextSequence ?? -1;
        }
        catch (ObjectDisposedException)
        {
        }

        lock (_statusLock)
        {
            long lag = head < 0 ? 0 : Math.Max(0, head - _position);
            return new BridgeStatus(_state, _messages, _duplicates, _gaps, _lostRecords, _position, lag, _inFlight, _reconnects, _lastError);
        }
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled; NATS failures are retried, never thrown.</summary>
    /// <exception cref="SharedLogException">The log cannot be opened.</exception>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var log = SegmentedLog.Open(_options.LogName, _options.LogDirectory);
        _log = log;
        var identity = LogIdentity.Of(log, _options.LogName);
        await using var connection = BridgeConnection.Open("out", _options.LogName, _options.Url, _options.MinBackoff, _options.MaxBackoff, _options.RequestTimeout);
        var js = new NatsJSContext(connection);
        try
        {
            TimeSpan duplicateWindow = await RetryAsync(ct => EnsureStreamAsync(js, ct), cancellationToken).ConfigureAwait(false);
            long? last = await RetryAsync(ct => LastBridgedAsync(js, identity, ct), cancellationToken).ConfigureAwait(false);
            long start = last is { } l ? l + 1 : _options.StartFrom == ReadFrom.Oldest ? 0 : log.GetStatus().NextSequence;
            lock (_statusLock)
            {
                _position = start;
            }

            // After a restart the next record is expected at 'start' (anything earlier that is gone is a gap); on a
            // first start the bridge begins wherever the reader does.
            long expected = last is null ? -1 : start;
            // Starts at 'start' if it is retained, else at the oldest record (the gap becomes a gap marker).
            using var reader = log.CreateReader(Math.Min(start, log.GetStatus().NextSequence), _options.IdleStrategy);
            SetState(BridgeState.Connected, null);
            Resumed?.Invoke(start);
            var pump = new Pump(this, js, identity, reader, expected, duplicateWindow);
            await pump.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            SetState(BridgeState.Stopped, null);
            _log = null;
        }
    }

    private async Task<TimeSpan> EnsureStreamAsync(NatsJSContext js, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await js.GetStreamAsync(_options.StreamName, cancellationToken: cancellationToken).ConfigureAwait(false);
            return stream.Info.Config.DuplicateWindow;
        }
        catch (NatsJSApiException e) when (e.Error.ErrCode == JetStreamErrors.StreamNotFound && _options.CreateStream)
        {
            var config = new StreamConfig(_options.StreamName, [Subjects.Filter])
            {
                Storage = StreamConfigStorage.File,
                DuplicateWindow = _options.DuplicateWindow,
                Description = "SharedLog bridge of log " + _options.LogName,
            };
            var stream = await js.CreateStreamAsync(config, cancellationToken).ConfigureAwait(false);
            return stream.Info.Config.DuplicateWindow;
        }
    }

    /// <summary>The log sequence of the last message on this bridge's subjects if it came from <paramref name="identity"/>.</summary>
    private async Task<long?> LastBridgedAsync(NatsJSContext js, LogIdentity identity, CancellationToken cancellationToken)
    {
        StreamMsgGetResponse response;
        try
        {
            var stream = await js.GetStreamAsync(_options.StreamName, cancellationToken: cancellationToken).ConfigureAwait(false);
            response = await stream.GetAsync(new StreamMsgGetRequest { LastBySubj = Subjects.Filter }, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSApiException e) when (e.Error.ErrCode == JetStreamErrors.NoMessageFound)
        {
            return null;
        }

        string? source = StoredHeaders.Find(response.Message.Hdrs, BridgeHeaders.Source);
        string? sequence = StoredHeaders.Find(response.Message.Hdrs, BridgeHeaders.Sequence);
        if (LogIdentity.TryParse(source, out var found) && found == identity
            && long.TryParse(sequence, NumberStyles.None, CultureInfo.InvariantCulture, out long last))
        {
            return last;
        }

        return null;
    }

    private async Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        var backoff = new Backoff(_options.MinBackoff, _options.MaxBackoff);
        while (true)
        {
            try
            {
                return await attempt(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                SetState(_state == BridgeState.Connecting ? BridgeState.Connecting : BridgeState.Reconnecting, e.Message);
                await backoff.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    internal static bool IsTransient(Exception e) => e is NatsException or TimeoutException or IOException
        || (e is OperationCanceledException && e.InnerException is TimeoutException);

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

    /// <summary>One message on its way: a record, or a gap marker (Count &gt; 0).</summary>
    private sealed class Pending(long sequence, int typeId, byte[] payload, long gapCount)
    {
        public long Sequence { get; } = sequence;

        public int TypeId { get; } = typeId;

        public byte[] Payload { get; } = payload;

        public long GapCount { get; } = gapCount;

        public bool IsGap => GapCount > 0;

        /// <summary>For a gap marker, the last lost sequence: resume follows it.</summary>
        public long LastSequence => IsGap ? Sequence + GapCount - 1 : Sequence;

        public Task<PubAckResponse>? Ack { get; set; }
    }

    /// <summary>The publishing loop: reads, publishes, retires acknowledgements in order, recovers from failures.</summary>
    private sealed class Pump(BridgeOut owner, NatsJSContext js, LogIdentity identity, LogReader reader, long expected, TimeSpan duplicateWindow)
    {
        private static readonly TimeSpan s_idleWait = TimeSpan.FromMilliseconds(200);
        private readonly Queue<Pending> _window = new();
        private readonly int _maxInFlight = owner._options.MaxInFlight;
        private readonly string _source = identity.ToString();
        private long _expected = expected;

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                bool progressed = Fill(cancellationToken);
                while (_window.Count > 0 && _window.Peek().Ack!.IsCompleted)
                {
                    if (!Retire(_window.Peek()))
                    {
                        await RecoverAsync(cancellationToken).ConfigureAwait(false);
                        break;
                    }

                    _window.Dequeue();
                    progressed = true;
                }

                owner.SetInFlight(_window.Count);
                if (progressed)
                {
                    continue;
                }

                if (_window.Count > 0)
                {
                    // Nothing to read or the window is full: wait for the oldest acknowledgement.
                    await ((Task)_window.Peek().Ack!).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
                else
                {
                    try
                    {
                        if (!await reader.WaitAsync(s_idleWait, cancellationToken).ConfigureAwait(false) && reader.IsCompleted)
                        {
                            // The writer completed the log and everything was published and acknowledged.
                            return;
                        }
                    }
                    catch (WriterDiedException e)
                    {
                        // Everything the dead writer committed is published; a writer that takes over continues the
                        // stream, and this reader with it.
                        owner.SetState(BridgeState.Connected, e.Message);
                        await Task.Delay(s_idleWait, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }

        /// <summary>Reads and publishes while the window has room; true when it sent anything.</summary>
        private bool Fill(CancellationToken cancellationToken)
        {
            bool sent = false;
            while (_window.Count < _maxInFlight && reader.TryRead(out LogRecord record))
            {
                long sequence = record.Sequence;
                int typeId = record.TypeId;
                byte[] payload = record.Payload.ToArray();   // the span is valid only until the next read
                if (!reader.Validate())
                {
                    continue;   // overwritten while copied: lost; the next record's sequence shows the gap
                }

                if (_expected >= 0 && sequence > _expected)
                {
                    Send(new Pending(_expected, 0, [], sequence - _expected), cancellationToken);
                }

                _expected = sequence + 1;
                Send(new Pending(sequence, typeId, payload, 0), cancellationToken);
                sent = true;
            }

            return sent;
        }

        private void Send(Pending pending, CancellationToken cancellationToken)
        {
            var headers = new NatsHeaders
            {
                [BridgeHeaders.Source] = _source,
                [BridgeHeaders.Sequence] = pending.LastSequence.ToString(CultureInfo.InvariantCulture),
            };
            string subject;
            string messageId;
            if (pending.IsGap)
            {
                headers[BridgeHeaders.GapFrom] = pending.Sequence.ToString(CultureInfo.InvariantCulture);
                headers[BridgeHeaders.GapCount] = pending.GapCount.ToString(CultureInfo.InvariantCulture);
                subject = owner.Subjects.GapSubject;
                messageId = identity.GapMessageId(pending.Sequence);
            }
            else
            {
                headers[BridgeHeaders.TypeId] = pending.TypeId.ToString(CultureInfo.InvariantCulture);
                subject = owner.Subjects.Resolve(pending.TypeId);
                messageId = identity.MessageId(pending.Sequence);
            }

            pending.Ack = js.PublishAsync(subject, pending.Payload, NatsRawSerializer<byte[]>.Default,
                new NatsJSPubOpts { MsgId = messageId }, headers, cancellationToken).AsTask();
            _window.Enqueue(pending);
        }

        /// <summary>Counts an acknowledged message; false when its publish failed.</summary>
        private bool Retire(Pending pending)
        {
            var ack = pending.Ack!;
            if (!ack.IsCompletedSuccessfully || ack.Result.Error is not null)
            {
                return false;
            }

            lock (owner._statusLock)
            {
                owner._messages++;
                if (ack.Result.Duplicate)
                {
                    owner._duplicates++;
                }

                if (pending.IsGap)
                {
                    owner._gaps++;
                    owner._lostRecords += pending.GapCount;
                }

                owner._position = pending.LastSequence + 1;
            }

            return true;
        }

        private static string Describe(Task<PubAckResponse> failed) => failed.Status switch
        {
            TaskStatus.Faulted => failed.Exception!.InnerException?.Message ?? "publish failed",
            TaskStatus.RanToCompletion => failed.Result.Error?.Description ?? "publish rejected",
            _ => "publish cancelled",
        };

        /// <summary>
        /// A publish failed: let the rest settle, wait until JetStream answers, then re-publish, in order and under
        /// their message ids, every message not acknowledged.
        /// </summary>
        private async Task RecoverAsync(CancellationToken cancellationToken)
        {
            var failedAt = Stopwatch.StartNew();
            var failed = _window.Peek().Ack!;
            owner.SetState(BridgeState.Reconnecting, Describe(failed));
            var retry = new List<Pending>();
            while (_window.Count > 0)
            {
                var pending = _window.Dequeue();
                await ((Task)pending.Ack!).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (!Retire(pending))
                {
                    retry.Add(pending);
                }
            }

            owner.SetInFlight(0);
            long? last = await owner.RetryAsync(ct => owner.LastBridgedAndStreamAsync(js, identity, ct), cancellationToken).ConfigureAwait(false);

            // Within the duplicate window JetStream drops whatever of these it already stored. Past it, trust the
            // stream's order: what it stored is a prefix of what was sent, so whatever is at or below its last
            // message is in.
            bool pastWindow = failedAt.Elapsed >= duplicateWindow * 0.9;
            foreach (var pending in retry)
            {
                if (!(pastWindow && last is { } l && pending.LastSequence <= l))
                {
                    Send(pending, cancellationToken);
                }
            }

            lock (owner._statusLock)
            {
                owner._reconnects++;
            }

            owner.SetState(BridgeState.Connected, null);
        }
    }

    private async Task<long?> LastBridgedAndStreamAsync(NatsJSContext js, LogIdentity identity, CancellationToken cancellationToken)
    {
        await EnsureStreamAsync(js, cancellationToken).ConfigureAwait(false);
        return await LastBridgedAsync(js, identity, cancellationToken).ConfigureAwait(false);
    }

    private void SetInFlight(int count)
    {
        lock (_statusLock)
        {
            _inFlight = count;
        }
    }
}
