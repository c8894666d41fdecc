namespace SharedLog.Nats;

/// <summary>
/// A tailing reader that starts at a given sequence number: the records below it are skipped. Stand-in for the core's
/// planned <c>SegmentedLog.CreateReader(long fromSequence, IdleStrategy?)</c>; this type is the one place to swap for
/// it.
/// </summary>
/// <remarks>
/// Built on today's API: a reader at <see cref="ReadFrom.Oldest"/> that drops records below the start. When the start
/// is no longer retained the first record returned is beyond it; the caller sees the gap by comparing sequences (the
/// bridge turns it into a gap marker), which is what the core method will count in <see cref="LogReader.LostCount"/>.
/// </remarks>
internal sealed class ReaderFromSequence : IDisposable
{
    private readonly LogReader _reader;
    private readonly long _fromSequence;

    public ReaderFromSequence(SegmentedLog log, long fromSequence, IdleStrategy? idle = null)
    {
        _reader = log.CreateReader(ReadFrom.Oldest, idle);
        _fromSequence = fromSequence;
    }

    /// <summary>Records the underlying reader lost to the writer (eviction under <see cref="SlowReaderPolicy.Evict"/> or a timeout under Block).</summary>
    public long LostCount => _reader.LostCount;

    /// <summary>The next record at or after the start, or false when caught up. The payload is valid until the next call.</summary>
    public bool TryRead(out LogRecord record)
    {
        while (_reader.TryRead(out record))
        {
            if (record.Sequence >= _fromSequence)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>See <see cref="LogReader.Validate"/>.</summary>
    public bool Validate() => _reader.Validate();

    /// <summary>See <see cref="LogReader.WaitAsync(TimeSpan, CancellationToken)"/>.</summary>
    public ValueTask<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _reader.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _reader.Dispose();
}
