using System.Runtime.CompilerServices;
using SharedLog.Files;
using SharedLog.Layout;
using SharedLog.Leases;
using SharedLog.Memory;
using SharedLog.Waiting;

namespace SharedLog.Log;

/// <summary>
/// The core of a <see cref="LogReader"/>: a tailing cursor that holds a reader lease and reads records in place.
/// </summary>
/// <remarks>
/// Design: the cursor pins the generation of the segment it reads (through its <see cref="ReaderLease"/>). It moves the
/// pin only forward as it crosses into the next segment (the old pin protected the new segment too, so there is no
/// window). Records are read in place; the record last returned is validated at the next call (or by
/// <see cref="Validate"/>) with <see cref="Segment.Holds"/>. If the writer reused the slot (it marks the generation -1
/// with a full fence before overwriting anything), the record and everything up to the oldest retained record count
/// as lost, and the cursor re-arms its slot and resumes there. A slot reaped under a live reader is never written
/// again: the lease claims a fresh one and the cursor resumes as an evicted reader would.
/// </remarks>
internal sealed unsafe class LogCursor : ISignalCondition
{
    /// <summary>The next sequence is published for status every 64 records, at each segment and when caught up.</summary>
    private const long PositionPublishMask = 63;

    private readonly SegmentedLog _owner;
    private readonly LogFile _log;
    private readonly ReaderLease _lease;
    private long _generation;
    private Segment _segment;
    private int _index;
    private long _nextSequence;
    private bool _holding;
    private int _knownCount;
    private volatile bool _disposed;
    private IdleStrategy _idle;
    private AsyncWaiter? _asyncWaiter;
    private StreamWatch _watch;
    private bool _started;

    /// <summary>A cursor at the oldest retained record, at the next one appended, or at <paramref name="fromSequence"/>.</summary>
    /// <param name="owner">The log handle (its disposal ends waits).</param>
    /// <param name="log">The file.</param>
    /// <param name="from">Where to start when <paramref name="fromSequence"/> is negative.</param>
    /// <param name="fromSequence">A sequence to start at (the oldest retained record if it is gone, the gap counted lost), or -1.</param>
    /// <param name="idle">How waits idle.</param>
    public LogCursor(SegmentedLog owner, LogFile log, ReadFrom from, long fromSequence, IdleStrategy? idle)
    {
        _owner = owner;
        _log = log;
        _idle = idle ?? IdleStrategy.Default;
        _lease = log.Shared.LeaseReaderSlot(ReaderSlotLayout.RoleReader);
        try
        {
            _lease.Activate();
            if (fromSequence >= 0)
            {
                // As if the reader had stopped before fromSequence: retained means resume there, gone means resume at
                // the oldest retained record with the gap counted lost.
                _nextSequence = fromSequence;
                _started = true;
                ResumeAtOldest();
            }
            else if (from == ReadFrom.Oldest)
            {
                ResumeAtOldest();
            }
            else
            {
                StartAtLatest();
            }

            PublishPosition();
        }
        catch
        {
            // Gives back the slot, the heartbeat and the mapping reference: no phantom reader is left behind.
            _lease.Dispose();
            throw;
        }
    }

    public long NextSequence
    {
        get
        {
            ThrowIfDisposed();
            return _nextSequence;
        }
    }

    public long LostCount
    {
        get
        {
            ThrowIfDisposed();
            return _lease.Lost;
        }
    }

    public IdleStrategy IdleStrategy
    {
        get => _idle;
        set => _idle = value ?? throw new ArgumentNullException(nameof(value));
    }

    public int SlotIndex => _lease.SlotIndex;

    /// <summary>True once the writer completed the log and this reader has read up to its end.</summary>
    public bool IsCompleted
    {
        get
        {
            ThrowIfDisposed();
            long completed = _log.CompletedAt;
            return completed >= 0 && _nextSequence >= completed;
        }
    }

    public bool IsDisposed => _disposed;

    public bool TryRead(out LogRecord record)
    {
        ThrowIfDisposed();
        if (_holding)
        {
            _holding = false;
            if (!_segment.Holds(_generation))
            {
                _lease.AddLost(1);
                ResumeAtOldest();
            }
        }

        for (int attempt = 0; attempt < 1024; attempt++)
        {
            // The writer rewrites the shared count on every append: re-read it (a cache miss) only once the records
            // it already announced are consumed. Reading under a stale count is safe: Holds checks the generation.
            int count = _index < _knownCount ? _knownCount : (_knownCount = _segment.ReadCount());
            if (_index < count)
            {
                if (_segment.TryRead(_index, _nextSequence, out record) && _segment.Holds(_generation))
                {
                    _index++;
                    _holding = true;
                    if ((++_nextSequence & PositionPublishMask) == 0)
                    {
                        PublishPosition();
                    }

                    return true;
                }

                CorruptOrLapped();
                continue;
            }

            // Acquire: pairs with the release of HeadGeneration in LogAppender.Roll; a newer head means this segment is sealed.
            if (Atomic.ReadAcquire(_log.HeadGeneration) <= _generation || _segment.ReadCount() > _index)
            {
                if (!_segment.Holds(_generation))
                {
                    CorruptOrLapped();
                    continue;
                }

                record = default;
                PublishPosition();
                return false;
            }

            NextSegment();
        }

        throw new SharedLogException($"The reader of '{_log.FilePath}' could not keep up: it was lapped 1024 times in one call. Use a larger log or a faster reader.");
    }

    public bool Validate()
    {
        ThrowIfDisposed();
        if (!_holding)
        {
            return true;
        }

        // Either way the record is settled now: TryRead must not judge it again.
        _holding = false;
        if (_segment.Holds(_generation))
        {
            return true;
        }

        _lease.AddLost(1);
        ResumeAtOldest();
        return false;
    }

    public bool HasData
    {
        get
        {
            ThrowIfDisposed();
            return HasDataCore();
        }
    }

    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        long deadline = WaitDeadline.From(timeout);
        if (HasDataCore())
        {
            return true;
        }

        // The wait holds its own reference on the mapping: disposing the reader from another thread cannot unmap it
        // while this thread still probes.
        _watch.Begin();
        _log.Region.AddRef();
        try
        {
            return _log.Shared.DataSignal.Wait(this, _idle, deadline, cancellationToken);
        }
        finally
        {
            _log.Region.Release();
        }
    }

    public ValueTask<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        long deadline = WaitDeadline.From(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        _watch.Begin();
        int state = ((ISignalCondition)this).Probe();
        if (state != 0 || timeout == TimeSpan.Zero)
        {
            return new ValueTask<bool>(state > 0);
        }

        _asyncWaiter ??= new AsyncWaiter(this);
        return _log.Shared.DataSignal.WaitAsync(_asyncWaiter, deadline, cancellationToken);
    }

    int ISignalCondition.Probe()
    {
        if (_disposed)
        {
            return -1;
        }

        if (HasDataCore())
        {
            return 1;
        }

        if (_owner.IsDisposed)
        {
            return -1;
        }

        // Completed and drained: the wait ends false, as it does for a disposed reader.
        long completed = _log.CompletedAt;
        if (completed >= 0 && _nextSequence >= completed)
        {
            if (_nextSequence != completed || _log.ReadNextSequence() != completed)
            {
                // Nothing is appended after Complete: a completion anywhere but at the end is corrupt, not an end.
                ThrowHelper.ThrowCorrupt(_log.FilePath, $"it says it was completed at sequence {completed}, but its records end at {_log.ReadNextSequence()}");
            }

            return -1;
        }

        var end = _watch.FindEnd(_log.Shared, "sequence", _nextSequence);
        if (end is not null && !HasDataCore())
        {
            PublishPosition();
            throw end;
        }

        return 0;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _asyncWaiter?.TryComplete(false);
        _log.Shared.DataSignal.KickLocalWaiters();
        _lease.Dispose();
    }

    private bool HasDataCore()
        => _segment.ReadCount() > _index || Atomic.ReadAcquire(_log.HeadGeneration) > _generation || !_segment.Holds(_generation);

    private void NextSegment()
    {
        if (_lease.EnsureOwned())
        {
            // The slot was reaped: our pin protected nothing since, so resume as if evicted.
            ResumeAtOldest();
            return;
        }

        // The count that said "segment done" must have been this generation's: a lapped slot holds another
        // segment's (smaller) count, and moving on from it would skip records without counting them.
        if (!_segment.Holds(_generation))
        {
            CorruptOrLapped();
            return;
        }

        MoveTo(_generation + 1, 0);
        PublishPosition();

        // Moving the pin forward is always safe (the old pin covered this generation too); wakes a blocked writer.
        _lease.MovePin(_generation);
        if (_lease.IsEvicted)
        {
            _lease.Activate();
        }

        // Seqlock: the first sequence is trusted only if the slot still holds the generation after reading it.
        long first = _segment.ReadFirstSequence();
        if (!_segment.Holds(_generation))
        {
            ResumeAtOldest();
            return;
        }

        if (first != _nextSequence)
        {
            ThrowHelper.ThrowCorrupt(_log.FilePath, $"segment {_generation} starts at sequence {first}, expected {_nextSequence}");
        }
    }

    /// <summary>Points the cursor at record <paramref name="index"/> of a segment; the cached count belongs to the old one.</summary>
    private void MoveTo(long generation, int index)
    {
        _generation = generation;
        _segment = _log.SegmentAt(generation);
        _index = index;
        _knownCount = 0;
    }

    /// <summary>The slot's bytes did not describe a record: overwritten under us (resume) or corrupt (throw).</summary>
    private void CorruptOrLapped()
    {
        if (_segment.Holds(_generation))
        {
            ThrowHelper.ThrowCorrupt(_log.FilePath, $"record {_index} of segment {_generation} has an invalid offset or length");
        }

        ResumeAtOldest();
    }

    /// <summary>Re-arms the slot, pins the oldest retained generation and counts what was skipped.</summary>
    private void ResumeAtOldest()
    {
        _lease.EnsureOwned();
        _lease.Activate();
        for (int attempt = 0; attempt < 1024; attempt++)
        {
            long head = Atomic.ReadAcquire(_log.HeadGeneration);
            long generation = _lease.PinOldest(_log.OldestGeneration, 0);
            var segment = _log.SegmentAt(generation);
            long first = segment.ReadFirstSequence();
            if (!segment.Holds(generation))
            {
                _log.ThrowIfWindowUnchanged(head, generation, $"the slot of the oldest segment {generation} does not hold it");
                continue;
            }

            bool started = _started;
            _started = true;
            if (started && first < _nextSequence)
            {
                // Our position is still retained (the pin was lost, not the data): never go back.
                SeekWithin(generation, _nextSequence);
                return;
            }

            if (started && first > _nextSequence)
            {
                _lease.AddLost(first - _nextSequence);
            }

            MoveTo(generation, 0);
            _nextSequence = first;
            return;
        }

        throw new SharedLogException($"The reader of '{_log.FilePath}' could not find a stable oldest segment; the writer is reusing segments faster than they can be pinned.");
    }

    /// <summary>Positions at <paramref name="sequence"/>, which lies in or after <paramref name="fromGeneration"/>.</summary>
    private void SeekWithin(long fromGeneration, long sequence)
    {
        long head = Atomic.ReadAcquire(_log.HeadGeneration);
        for (long g = fromGeneration; g <= head; g++)
        {
            var segment = _log.SegmentAt(g);
            long first = segment.ReadFirstSequence();
            int count = segment.ReadCount();
            if (sequence < first + count || g == head)
            {
                MoveTo(g, (int)Math.Clamp(sequence - first, 0, count));
                _nextSequence = first + _index;
                _lease.MovePin(g);
                return;
            }
        }
    }

    private void StartAtLatest()
    {
        for (int attempt = 0; attempt < 1024; attempt++)
        {
            long head = Atomic.ReadAcquire(_log.HeadGeneration);
            long pinned = _lease.PinOldest(_log.OldestGeneration, head);
            var segment = _log.SegmentAt(pinned);
            int count = segment.ReadCount();
            long first = segment.ReadFirstSequence();
            if (!segment.Holds(pinned))
            {
                if (pinned == head)
                {
                    _log.ThrowIfWindowUnchanged(head, Atomic.ReadAcquire(_log.OldestGeneration), $"the head segment slot does not hold generation {head}");
                }

                continue;
            }

            MoveTo(pinned, count);
            _nextSequence = first + count;
            _started = true;
            return;
        }

        throw new SharedLogException($"The reader of '{_log.FilePath}' could not find a stable head segment.");
    }

    /// <summary>Publishes the next sequence in the reader slot, for status (never read by the writer's protocol).</summary>
    private void PublishPosition() => _lease.PublishPosition(_nextSequence);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowDisposed(nameof(LogReader));
        }
    }
}
