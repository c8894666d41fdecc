using SharedLog.Log;

namespace SharedLog;

/// <summary>
/// Space reserved in place for one record by <see cref="LogWriter.Claim"/>. Write <see cref="Span"/>, then
/// <see cref="Commit()"/>; nothing is visible to readers before that. A later append, claim or record discards it.
/// </summary>
public ref struct LogClaim
{
    private readonly LogAppender _writer;
    private readonly long _reservation;

    internal LogClaim(LogAppender writer, Span<byte> span, long sequence, long reservation)
    {
        _writer = writer;
        Span = span;
        Sequence = sequence;
        _reservation = reservation;
    }

    /// <summary>The payload bytes, inside the mapping.</summary>
    public Span<byte> Span { get; }

    /// <summary>The sequence number the record gets when committed.</summary>
    public readonly long Sequence { get; }

    /// <summary>Publishes the whole claimed span as the record's payload.</summary>
    /// <exception cref="InvalidOperationException">The claim was committed already or discarded by a later append, claim or record.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed.</exception>
    public readonly void Commit() => _writer.CommitReservation(_reservation, Span.Length);

    /// <summary>Publishes the first <paramref name="length"/> claimed bytes as the record's payload.</summary>
    public readonly void Commit(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Span.Length);
        _writer.CommitReservation(_reservation, length);
    }
}
