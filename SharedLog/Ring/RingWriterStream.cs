namespace SharedLog.Ring;

/// <summary>
/// A write-only <see cref="Stream"/> over a <see cref="RingWriter"/>: writes wait for space as the slow-reader
/// policy says, and disposing the stream completes the ring's stream (it does not release the writer lease).
/// </summary>
internal sealed class RingWriterStream : Stream
{
    private readonly RingProducer _writer;
    private bool _disposed;

    public RingWriterStream(RingProducer writer) => _writer = writer;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_disposed && !_writer.IsDisposed;

    public override long Length => throw new NotSupportedException("A ring writer's stream is not seekable.");

    public override long Position
    {
        get => _writer.Position;
        set => throw new NotSupportedException("A ring writer's stream is not seekable.");
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _writer.WriteBlocking(buffer, CancellationToken.None);
    }

    public override void WriteByte(byte value) => Write([value]);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _writer.WriteAsync(buffer, cancellationToken);
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("A ring writer's stream is write-only.");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A ring writer's stream is not seekable.");

    public override void SetLength(long value) => throw new NotSupportedException("A ring writer's stream is not seekable.");

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            if (!_writer.IsDisposed)
            {
                _writer.Complete();
            }
        }

        base.Dispose(disposing);
    }
}
