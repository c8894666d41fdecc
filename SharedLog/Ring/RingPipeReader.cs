using System.Buffers;
using System.IO.Pipelines;
using SharedLog.Layout;

namespace SharedLog.Ring;

/// <summary>
/// A <see cref="PipeReader"/> over a <see cref="RingReader"/>. The buffer of a <see cref="ReadResult"/> is the ring's
/// memory in place: one or two segments (two when the data wraps), reused from read to read, so reading allocates
/// nothing on the fast path. <c>AdvanceTo</c> consumes through <see cref="RingReader.Advance"/>, which validates.
/// </summary>
internal sealed class RingPipeReader : PipeReader, IDisposable
{
    private readonly RingConsumer _reader;
    private readonly Segment _firstSegment = new();
    private readonly Segment _secondSegment = new();
    private ReadOnlySequence<byte> _buffer;
    private long _bufferStart;
    private long _examined = -1;
    private CancellationTokenSource? _cancelSource;
    private volatile bool _cancelRequested;
    private bool _completed;

    public RingPipeReader(RingConsumer reader) => _reader = reader;

    public override bool TryRead(out ReadResult result)
    {
        ThrowIfCompleted();
        if (_cancelRequested)
        {
            _cancelRequested = false;
            result = Current(isCanceled: true);
            return true;
        }

        result = Current(isCanceled: false);
        return !result.Buffer.IsEmpty || result.IsCompleted;
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfCompleted();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<ReadResult>(cancellationToken);
        }

        if (_cancelRequested)
        {
            _cancelRequested = false;
            return new ValueTask<ReadResult>(Current(isCanceled: true));
        }

        var result = Current(isCanceled: false);
        return HasNews(result) ? new ValueTask<ReadResult>(result) : ReadSlowAsync(cancellationToken);
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        ThrowIfCompleted();
        long consumedLength = _buffer.Slice(_buffer.Start, consumed).Length;
        long examinedLength = _buffer.Slice(_buffer.Start, examined).Length;
        if (examinedLength < consumedLength)
        {
            throw new InvalidOperationException("The examined position must not be before the consumed position.");
        }

        _reader.Advance((int)consumedLength);
        _examined = _bufferStart + examinedLength;
        _buffer = default;
    }

    public override void CancelPendingRead()
    {
        _cancelRequested = true;
        _cancelSource?.Cancel();
    }

    public override void Complete(Exception? exception = null)
    {
        _completed = true;
        Dispose();
    }

    /// <summary>Frees the cancellation source of <see cref="CancelPendingRead"/>; the reader itself stays open.</summary>
    public void Dispose()
    {
        _cancelSource?.Dispose();
        _cancelSource = null;
    }

    private async ValueTask<ReadResult> ReadSlowAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var cancelSource = _cancelSource is { IsCancellationRequested: false } existing ? existing : _cancelSource = new CancellationTokenSource();
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cancelSource.Token))
            {
                try
                {
                    if (_cancelRequested)
                    {
                        throw new OperationCanceledException(cancelSource.Token);
                    }

                    if (!await _reader.WaitForDataAsync(Math.Max(_examined, _reader.Position), linked.Token).ConfigureAwait(false))
                    {
                        ThrowHelper.ThrowDisposed(nameof(RingReader));
                    }
                }
                catch (OperationCanceledException) when (_cancelRequested && !cancellationToken.IsCancellationRequested)
                {
                    _cancelRequested = false;
                    return Current(isCanceled: true);
                }
            }

            var result = Current(isCanceled: false);
            if (HasNews(result))
            {
                return result;
            }
        }
    }

    /// <summary>True when the result shows bytes beyond what the consumer already examined, or the end.</summary>
    private bool HasNews(in ReadResult result)
        => result.IsCompleted || (!result.Buffer.IsEmpty && _bufferStart + result.Buffer.Length > _examined);

    private ReadResult Current(bool isCanceled)
    {
        int length = _reader.GetReadMemory(out var first, out var second);
        _bufferStart = _reader.Position;
        if (second.IsEmpty)
        {
            _buffer = new ReadOnlySequence<byte>(first);
        }
        else
        {
            _firstSegment.Set(first, 0, _secondSegment);
            _secondSegment.Set(second, first.Length, null);
            _buffer = new ReadOnlySequence<byte>(_firstSegment, 0, _secondSegment, second.Length);
        }

        // The end is in the buffer when the completed position equals the buffer's end.
        long completed = _reader.CompletedPositionNow;
        bool end = completed != RingLayout.NotCompleted && _bufferStart + length >= completed;
        return new ReadResult(_buffer, isCanceled, end);
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new InvalidOperationException("Reading is not allowed after the PipeReader was completed.");
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public void Set(ReadOnlyMemory<byte> memory, long runningIndex, Segment? next)
        {
            Memory = memory;
            RunningIndex = runningIndex;
            Next = next;
        }
    }
}
