namespace SharedLog;

/// <summary>
/// Space reserved in place for one record by <see cref="LogWriter.Claim"/>. Write <see cref="Span"/>, then
/// <see cref="Commit()"/>; nothing is visible to readers before that.
/// </summary>
public ref struct LogClaim
{
    private readonly LogWriter _writer;

    internal LogClaim(LogWriter writer, Span<byte> span, long sequence)
    {
        _writer = writer;
        Span = span;
        Sequence = sequence;
    }

    /// <summary>The payload bytes, inside the mapping.</summary>
    public Span<byte> Span { get; }

    /// <summary>The sequence number the record gets when committed.</summary>
    public readonly long Sequence { get; }

    /// <summary>Publishes the whole claimed span as the record's payload.</summary>
    public readonly void Commit() => _writer.CommitClaim(Sequence, Span.Length);

    /// <summary>Publishes the first <paramref name="length"/> claimed bytes as the record's payload.</summary>
    public readonly void Commit(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Span.Length);
        _writer.CommitClaim(Sequence, length);
    }
}
