namespace SharedLog.Ring;

/// <summary>
/// A read-only, seekable <see cref="Stream"/> over a <see cref="RingReader"/>. <see cref="Length"/> is the writer
/// position now; seeking is allowed within the retained window. Reads wait for the writer and return 0 only at the
/// end of the stream. Disposing the stream leaves the reader open.
/// </summary>
internal sealed class RingReaderStream : Stream
{
    private readonly RingConsumer _reader;

    public RingReaderStream(RingConsumer reader) => _reader = reader;

    public override bool CanRead => !_reader.IsDisposed;

    public override bool CanSeek => !_reader.IsDisposed;

    public override bool CanWrite => false;

    public override long Length => _reader.WriterPositionNow;

    public override long Position
    {
        get => _reader.Position;
        set => _reader.Seek(value);
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return _reader.ReadBlocking(buffer.AsSpan(offset, count), CancellationToken.None);
    }

    public override int Read(Span<byte> buffer) => _reader.ReadBlocking(buffer, CancellationToken.None);

    public override int ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        return _reader.ReadBlocking(one, CancellationToken.None) == 0 ? -1 : one[0];
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return _reader.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => _reader.ReadAsync(buffer, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin)
    {
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _reader.Position + offset,
            SeekOrigin.End => Length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        _reader.Seek(target);
        return target;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException("A ring reader's stream is read-only.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("A ring reader's stream is read-only.");
}
