using System.Buffers;
using CommunityToolkit.HighPerformance;
using SharedLog.Layout;

namespace SharedLog;

/// <summary>
/// Writes one record straight into the segment through <see cref="IBufferWriter{T}"/>, for serializers
/// (System.Text.Json's Utf8JsonWriter, MessagePack, protobuf). Get one from <see cref="LogWriter.BeginRecord"/>.
/// </summary>
/// <remarks>
/// If the record outgrows what is left of the current segment, the bytes written so far move once into a fresh
/// segment; a record can grow up to <see cref="LogWriter.MaxPayloadLength"/>.
/// </remarks>
public sealed unsafe class LogRecordWriter : IBufferWriter<byte>
{
    private readonly LogWriter _writer;
    private byte* _record;
    private int _written;
    private int _typeId;
    private bool _active;

    internal LogRecordWriter(LogWriter writer) => _writer = writer;

    /// <summary>Bytes written to the record so far.</summary>
    public int WrittenCount => _written;

    /// <inheritdoc/>
    public void Advance(int count)
    {
        ThrowIfInactive();
        if (count < 0 || count > _writer.FreeInSegment - _written)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "Advanced past the space handed out by GetSpan/GetMemory.");
        }

        _written += count;
    }

    /// <inheritdoc/>
    public Memory<byte> GetMemory(int sizeHint = 0)
        => throw new NotSupportedException("LogRecordWriter hands out spans into shared memory only; use GetSpan, or AsStream().");

    /// <inheritdoc/>
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        ThrowIfInactive();
        int wanted = Math.Max(sizeHint, 1);
        if (wanted > _writer.FreeInSegment - _written)
        {
            long needed = (long)_written + wanted;
            if (needed > _writer.MaxPayloadLength)
            {
                throw new InvalidOperationException(
                    $"The record would grow to {needed} bytes; the largest record is {_writer.MaxPayloadLength} bytes. Create the log with a larger SegmentBytes.");
            }

            _record = _writer.RelocateInto(_written, (int)needed);
        }

        return new Span<byte>(_record + RecordLayout.HeaderLength + _written, _writer.FreeInSegment - _written);
    }

    /// <summary>Publishes what was written as one record and returns its sequence number.</summary>
    public long Commit()
    {
        ThrowIfInactive();
        _active = false;
        return _writer.Publish(_record, _written, _typeId);
    }

    /// <summary>A write-only <see cref="Stream"/> over this record (no copy until the segment runs out).</summary>
    public Stream AsStream() => ((IBufferWriter<byte>)this).AsStream();

    internal void Begin(int typeId)
    {
        _record = _writer.Reserve(0, wait: true);
        _typeId = typeId;
        _written = 0;
        _active = true;
    }

    private void ThrowIfInactive()
    {
        if (!_active)
        {
            throw new InvalidOperationException("The record was already committed; call LogWriter.BeginRecord for the next one.");
        }
    }
}
