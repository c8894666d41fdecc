using System.IO.Pipelines;

namespace SharedLog.Ring;

/// <summary>
/// A <see cref="PipeWriter"/> over a <see cref="RingWriter"/>. <c>GetMemory</c> hands out ring memory in place when
/// the hint fits in the contiguous free space (zero copy; <c>Advance</c> publishes at once); otherwise — the ring is
/// full or the space wraps — it hands out a private buffer that <c>FlushAsync</c> copies in, waiting for space.
/// Once bytes sit in the buffer, later writes go there too until the flush, so order is kept.
/// </summary>
internal sealed class RingPipeWriter : PipeWriter, IDisposable
{
    private const int RingChunk = 16 * 1024;
    private const int MinimumBuffer = 4096;

    private readonly RingProducer _writer;
    private byte[]? _buffer;
    private int _pending;
    private bool _inRing;
    private CancellationTokenSource? _cancelSource;
    private volatile bool _cancelRequested;
    private bool _completed;

    public RingPipeWriter(RingProducer writer) => _writer = writer;

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _pending;

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        ThrowIfCompleted();
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        int hint = Math.Max(sizeHint, 1);
        if (_pending == 0 && hint <= _writer.Capacity && _writer.TryGetContiguous(hint, RingChunk, out var memory))
        {
            _inRing = true;
            return memory;
        }

        _inRing = false;
        int needed = _pending + Math.Max(hint, MinimumBuffer);
        if (_buffer is null || _buffer.Length < needed)
        {
            Array.Resize(ref _buffer, Math.Max(needed, (_buffer?.Length ?? 0) * 2));
        }

        return _buffer.AsMemory(_pending);
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void Advance(int bytes)
    {
        ThrowIfCompleted();
        if (_inRing)
        {
            _writer.Advance(bytes);
            return;
        }

        if (bytes < 0 || _buffer is null || bytes > _buffer.Length - _pending)
        {
            throw new ArgumentOutOfRangeException(nameof(bytes), "Advanced past the memory handed out by GetMemory/GetSpan.");
        }

        _pending += bytes;
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfCompleted();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<FlushResult>(cancellationToken);
        }

        _inRing = false;
        if (_cancelRequested)
        {
            _cancelRequested = false;
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: true, isCompleted: false));
        }

        WritePending();
        return _pending == 0 ? new ValueTask<FlushResult>(default(FlushResult)) : FlushSlowAsync(cancellationToken);
    }

    public override void CancelPendingFlush()
    {
        _cancelRequested = true;
        _cancelSource?.Cancel();
    }

    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        if (_pending > 0)
        {
            _writer.WriteBlocking(_buffer.AsSpan(0, _pending), CancellationToken.None);
            _pending = 0;
        }

        _completed = true;
        Dispose();
        if (!_writer.IsDisposed && !_writer.IsCompleted)
        {
            _writer.Complete();
        }
    }

    /// <summary>Frees the cancellation source of <see cref="CancelPendingFlush"/>; the writer itself stays open.</summary>
    public void Dispose()
    {
        _cancelSource?.Dispose();
        _cancelSource = null;
    }

    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        if (_pending > 0)
        {
            await _writer.WriteAsync(_buffer.AsMemory(0, _pending)).ConfigureAwait(false);
            _pending = 0;
        }

        Complete(exception);
    }

    private async ValueTask<FlushResult> FlushSlowAsync(CancellationToken cancellationToken)
    {
        while (_pending > 0)
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

                    await _writer.WaitForSpaceAsync(linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (_cancelRequested && !cancellationToken.IsCancellationRequested)
                {
                    _cancelRequested = false;
                    return new FlushResult(isCanceled: true, isCompleted: false);
                }
            }

            WritePending();
        }

        return default;
    }

    /// <summary>Writes as much of the buffered bytes as fits now and keeps the rest at the front of the buffer.</summary>
    private void WritePending()
    {
        if (_pending == 0)
        {
            return;
        }

        int written = _writer.Write(_buffer.AsSpan(0, _pending));
        if (written > 0)
        {
            _buffer.AsSpan(written, _pending - written).CopyTo(_buffer);
            _pending -= written;
        }
    }

    private void ThrowIfCompleted()
    {
        if (_completed)
        {
            throw new InvalidOperationException("Writing is not allowed after the PipeWriter was completed.");
        }
    }
}
