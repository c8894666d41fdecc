using SharedLog.Log;

namespace SharedLog;

/// <summary>
/// A cheap handle to one record that keeps its segment from being reused after the snapshot or reader that produced it
/// has moved on or been disposed, until this lease and every <see cref="Clone"/> of it are disposed. The payload is read
/// in place, never copied. Leases into the same segment share one reader slot per log handle.
/// </summary>
/// <remarks>
/// Under <see cref="SlowReaderPolicy.Block"/> the record stays intact while leased (the writer waits for the lease like
/// for a slow reader, and evicts it only after <see cref="SegmentedLogOptions.SlowReaderTimeout"/>). Under
/// <see cref="SlowReaderPolicy.Evict"/> a lease is evicted like any lagging reader: <see cref="Payload"/> then throws
/// <see cref="ReaderEvictedException"/>, and <see cref="IsIntact"/> tells, after use, whether bytes read were intact.
/// A process that dies holding leases releases them as dead readers are released. A lease is for one thread at a time;
/// clones may be used and disposed on other threads.
/// </remarks>
public sealed class RecordLease : IDisposable
{
    private readonly SegmentPins.Pin _pin;
    private readonly int _payloadOffset;
    private readonly int _payloadLength;
    private int _disposed;

    internal RecordLease(SegmentPins.Pin pin, long sequence, int typeId, int payloadOffset, int payloadLength)
    {
        _pin = pin;
        Sequence = sequence;
        TypeId = typeId;
        _payloadOffset = payloadOffset;
        _payloadLength = payloadLength;
    }

    /// <summary>The record's sequence number.</summary>
    public long Sequence { get; }

    /// <summary>The record's user type id.</summary>
    public int TypeId { get; }

    /// <summary>The payload, in place in the mapping.</summary>
    /// <exception cref="ReaderEvictedException">The lease was evicted and the segment reused (under <see cref="SlowReaderPolicy.Evict"/>).</exception>
    public ReadOnlySpan<byte> Payload
    {
        get
        {
            ThrowIfUnusable();
            return _pin.Segment.PayloadAt(_payloadOffset, _payloadLength);
        }
    }

    /// <summary>The payload as <see cref="ReadOnlyMemory{T}"/> over the mapping, valid while this lease is not disposed.</summary>
    /// <exception cref="ReaderEvictedException">The lease was evicted and the segment reused.</exception>
    public ReadOnlyMemory<byte> Memory
    {
        get
        {
            ThrowIfUnusable();
            return _pin.Memory.Memory.Slice(_payloadOffset, _payloadLength);
        }
    }

    /// <summary>True while the leased bytes are intact: check it after reading under <see cref="SlowReaderPolicy.Evict"/>.</summary>
    public bool IsIntact
    {
        get
        {
            ThrowIfDisposed();
            return _pin.IsIntact;
        }
    }

    /// <summary>Another handle to the same record, sharing the pin; dispose each.</summary>
    public RecordLease Clone()
    {
        ThrowIfDisposed();
        _pin.Owner.AddRef(_pin);
        return new RecordLease(_pin, Sequence, TypeId, _payloadOffset, _payloadLength);
    }

    /// <summary>Gives this handle's share of the pin back; the last one lets the writer reuse the segment.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _pin.Owner.Release(_pin);
        }
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            ThrowHelper.ThrowDisposed(nameof(RecordLease));
        }
    }

    private void ThrowIfUnusable()
    {
        ThrowIfDisposed();
        if (!_pin.IsIntact)
        {
            throw new ReaderEvictedException(
                $"The lease of record {Sequence} was evicted and its segment reused (the log evicts slow readers). Copy records you must keep, or use SlowReaderPolicy.Block.");
        }
    }
}
