using System.Runtime.CompilerServices;
using SharedLog.Layout;
using SharedLog.Leases;
using SharedLog.Memory;

namespace SharedLog.Log;

/// <summary>
/// The core of a <see cref="LogSnapshot"/>: a reader lease pinning the oldest retained generation, and the window
/// (first and head generation, the head's count) seen at the last refresh.
/// </summary>
/// <remarks>
/// Design: the view pins the oldest retained generation with the Dekker handshake (store pin, full fence, re-read
/// Oldest) and records the head generation and its record count at that instant. Every read validates after reading
/// (<see cref="Check"/>): the slot's generation and the lease's eviction flag and ownership are re-checked. Under
/// <see cref="SlowReaderPolicy.Evict"/> a reused segment turns into <see cref="ReaderEvictedException"/> until the
/// view is refreshed.
/// </remarks>
internal sealed class LogView
{
    private readonly LogFile _log;
    private readonly ReaderLease _lease;
    private bool _evicted;
    private bool _disposed;

    public LogView(LogFile log)
    {
        _log = log;
        _lease = log.Shared.LeaseReaderSlot(ReaderSlotLayout.RoleSnapshot);
        try
        {
            Refresh();
        }
        catch
        {
            // Gives back the slot, the heartbeat and the mapping reference: no phantom snapshot is left behind.
            _lease.Dispose();
            throw;
        }
    }

    public LogFile Log => _log;

    public long FirstGeneration { get; private set; }

    public long HeadGeneration { get; private set; }

    public int HeadCount { get; private set; }

    public long FirstSequence { get; private set; }

    public long NextSequence { get; private set; }

    public unsafe void Refresh()
    {
        ThrowIfDisposed();

        // A slot reaped while we stalled (only possible where the OS cannot tell that we live) may belong to someone
        // else now: the lease never writes to it again and claims a fresh one.
        _lease.EnsureOwned();
        _lease.Activate();
        for (int attempt = 0; attempt < 1024; attempt++)
        {
            long first = _lease.PinOldest(_log.OldestGeneration, 0);

            // Acquire: pairs with the release of HeadGeneration in LogAppender.Roll.
            long head = Atomic.ReadAcquire(_log.HeadGeneration);
            if (!_log.IsWindowValid(head, first))
            {
                _log.ThrowIfWindowUnchanged(head, first, $"the window of generations [{first}, {head}] is not valid for {_log.SlotCount} slots");
                continue;
            }

            var headSegment = _log.SegmentAt(head);
            var firstSegment = _log.SegmentAt(first);
            int headCount = headSegment.ReadCount();
            long headFirst = headSegment.ReadFirstSequence();
            long firstSequence = firstSegment.ReadFirstSequence();
            if (!headSegment.Holds(head) || !firstSegment.Holds(first))
            {
                _log.ThrowIfWindowUnchanged(head, first, $"the slots of segments {first} and {head} do not hold those generations");
                continue;
            }

            // Bounds the record count, so Count and every sequence derived from it are sane even for a hostile file;
            // enumeration checks each segment against its predecessor.
            if (firstSequence < 0 || firstSequence > headFirst || headFirst - firstSequence > (head - first) * _log.SegmentCapacity)
            {
                ThrowHelper.ThrowCorrupt(_log.FilePath, $"segments {first} to {head} start at sequences {firstSequence} and {headFirst}, which cannot both hold");
            }

            FirstGeneration = first;
            HeadGeneration = head;
            HeadCount = headCount;
            FirstSequence = firstSequence;
            NextSequence = headFirst + headCount;
            _evicted = false;
            _lease.PublishPosition(firstSequence);
            return;
        }

        throw new SharedLogException($"Could not take a stable snapshot of '{_log.FilePath}': the writer is reusing segments faster than they can be pinned.");
    }

    /// <summary>Finds a record by sequence number in O(log segments). False when it is outside the view.</summary>
    public bool TryGet(long sequence, out LogRecord record) => TryGet(sequence, out record, out _, out _);

    /// <summary>A lease on record <paramref name="sequence"/> that outlives this view.</summary>
    public RecordLease Lease(long sequence)
    {
        if (!TryGet(sequence, out var record, out var segment, out long generation))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(sequence), $"Sequence {sequence} is not in the snapshot [{FirstSequence}, {NextSequence}).");
        }

        var pin = _log.Pins.Acquire(generation);
        try
        {
            // The view's own pin protected the segment until the lease's pin was in place: validate the read now.
            Check(segment, generation);
            return new RecordLease(pin, record.Sequence, record.TypeId, segment.PayloadOffsetOf(record.Payload), record.Payload.Length);
        }
        catch
        {
            _log.Pins.Release(pin);
            throw;
        }
    }

    private bool TryGet(long sequence, out LogRecord record, out Segment found, out long generation)
    {
        ThrowIfUnusable();
        record = default;
        found = default;
        generation = -1;
        if (sequence < FirstSequence || sequence >= NextSequence)
        {
            return false;
        }

        long low = FirstGeneration;
        long high = HeadGeneration;
        while (low < high)
        {
            long middle = low + ((high - low + 1) / 2);
            if (_log.SegmentAt(middle).ReadFirstSequence() <= sequence)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        var segment = _log.SegmentAt(low);
        found = segment;
        generation = low;
        long index = sequence - segment.ReadFirstSequence();
        int count = CountOf(low, segment);
        if (index < 0 || index >= count || !segment.TryRead((int)index, sequence, out record))
        {
            Check(segment, low);
            ThrowHelper.ThrowCorrupt(_log.FilePath, $"sequence {sequence} is not where segment {low} says it is");
        }

        Check(segment, low);
        return true;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _lease.Dispose();
    }

    /// <summary>The record count of a segment as the view sees it (the head's count is frozen at refresh).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int CountOf(long generation, Segment segment) => generation == HeadGeneration ? HeadCount : segment.ReadCount();

    /// <summary>Validation after reading: throws <see cref="ReaderEvictedException"/> if the slot no longer holds <paramref name="generation"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Check(Segment segment, long generation)
    {
        // A reaped slot pins nothing any more: that is an eviction too.
        if (!segment.Holds(generation) || _lease.IsEvicted || !_lease.IsOwned)
        {
            ThrowEvicted();
        }
    }

    public void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowDisposed(nameof(LogSnapshot));
        }
    }

    public void ThrowIfUnusable()
    {
        ThrowIfDisposed();
        if (_evicted)
        {
            ThrowEvicted();
        }
    }

    private void ThrowEvicted()
    {
        _evicted = true;
        throw new ReaderEvictedException(
            $"The snapshot of '{_log.FilePath}' was evicted: the writer reused segments it pinned. Call Refresh() to continue from the retained window.");
    }
}
