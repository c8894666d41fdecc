using System.Buffers;
using CommunityToolkit.HighPerformance;
using SharedLog.Log;

namespace SharedLog;

/// <summary>
/// Writes one record straight into the segment through <see cref="IBufferWriter{T}"/>, for serializers
/// (System.Text.Json's Utf8JsonWriter, MessagePack, protobuf). Get one from <see cref="LogWriter.BeginRecord"/>.
/// </summary>
/// <remarks>
/// <see cref="GetSpan"/> and <see cref="GetMemory"/> both hand out the segment's own memory (no copy). If the record
/// outgrows what is left of the current segment, the bytes written so far move once into a fresh segment; a record can
/// grow up to <see cref="LogWriter.MaxPayloadLength"/>. A later append, claim or record of the
/// writer discards it: every member then throws <see cref="InvalidOperationException"/>.
/// </remarks>
public sealed class LogRecordWriter : IBufferWriter<byte>
{
    private readonly LogAppender _writer;
    private long _reservation;
    private int _written;

    internal LogRecordWriter(LogAppender writer) => _writer = writer;

    /// <summary>Bytes written to the record so far.</summary>
    public int WrittenCount => _written;

    /// <inheritdoc/>
    public void Advance(int count)
    {
        int available = _writer.ReservationFree(_reservation, _written);
        if (count < 0 || count > available)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "Advanced past the space handed out by GetSpan/GetMemory.");
        }

        _written += count;
    }

    /// <summary>
    /// Memory in the segment for at least <paramref name="sizeHint"/> more bytes (moving what was written into a fresh
    /// segment when this one has too little room). It stays valid until <see cref="Commit"/> or the writer's next call;
    /// never keep it after the writer is disposed.
    /// </summary>
    public Memory<byte> GetMemory(int sizeHint = 0) => _writer.ReservationMemory(_reservation, _written, sizeHint);

    /// <inheritdoc/>
    public Span<byte> GetSpan(int sizeHint = 0) => _writer.ReservationSpan(_reservation, _written, sizeHint);

    /// <summary>Publishes what was written as one record and returns its sequence number.</summary>
    public long Commit() => _writer.CommitReservation(_reservation, _written);

    /// <summary>A write-only <see cref="Stream"/> over this record (no copy until the segment runs out).</summary>
    public Stream AsStream() => ((IBufferWriter<byte>)this).AsStream();

    internal void Begin(long reservation)
    {
        _reservation = reservation;
        _written = 0;
    }
}
