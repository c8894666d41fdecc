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
    private int _offset;
    private long _nextSequence;
    private int _held;
    private int _heldOffset;
    private volatile bool _disposed;
    private WaitGate _gate;
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryRead(out LogRecord record)
    {
        ThrowIfDisposed();
        if (_held != 0)
        {
            _ = SettleHeld();
        }

        for (int attempt = 0; attempt < 1024; attempt++)
        {
            // The record's own length word is the commit: one acquire load of a line the reader is about to read
            // anyway. The shared count (rewritten on every append) is read only at the end of a segment.
            int length = CommittedLengthAtOffset();
            if (length != 0)
            {
                if (_segment.IsRecordLength(_offset, length))
                {
                    record = _segment.RecordAt(_offset, length, _nextSequence);
                    if (_segment.Holds(_generation))
                    {
                        _heldOffset = _offset;
                        _offset += RecordLayout.AlignedLength(length - RecordLayout.HeaderLength);
                        _index++;
                        _held = 1;
                        if ((++_nextSequence & PositionPublishMask) == 0)
                        {
                            PublishPosition();
                        }

                        return true;
                    }
                }

                CorruptOrLapped();
                continue;
            }

            if (!PassEndOfRecords())
            {
                record = default;
                return false;
            }
        }

        throw Lapped();
    }

    /// <summary>
    /// Reads up to <paramref name="maxRecords"/> records at once: one validation for the whole batch, none per record.
    /// The records stay in place until the next call on this reader; <see cref="Validate"/> (or the next call) tells
    /// whether the batch was intact while it was held, and counts every record of a batch that was not as lost.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryReadBatch(int maxRecords, out LogBatch batch)
    {
        ThrowIfDisposed();
        if (maxRecords < 1)
        {
            ThrowBatchSize(maxRecords);
        }

        if (_held != 0)
        {
            _ = SettleHeld();
        }

        for (int attempt = 0; attempt < 1024; attempt++)
        {
            int count = 0;
            int offset = _offset;
            int limit = Math.Min(maxRecords, _log.SegmentCapacity - _index);
            bool valid = true;
            while (count < limit && _segment.HasRoomAt(offset))
            {
                int length = _segment.ReadLength(offset);
                if (length == 0)
                {
                    break;
                }

                if (!_segment.IsRecordLength(offset, length))
                {
                    valid = false;
                    break;
                }

                offset += RecordLayout.AlignedLength(length - RecordLayout.HeaderLength);
                count++;
            }

            if (count > 0 && valid && _segment.Holds(_generation))
            {
                batch = new LogBatch(_segment, _offset, count, _nextSequence);
                _offset = offset;
                _index += count;
                _nextSequence += count;
                _held = count;
                PublishPosition();
                return true;
            }

            if (!valid || count > 0)
            {
                CorruptOrLapped();
                continue;
            }

            if (!PassEndOfRecords())
            {
                batch = default;
                return false;
            }
        }

        throw Lapped();
    }

    /// <summary>
    /// <see cref="TryReadBatch(int, out LogBatch)"/>, first lingering up to <paramref name="maxDelay"/> while some records
    /// but fewer than <paramref name="minRecords"/> are committed past the cursor in its segment.
    /// </summary>
    /// <remarks>
    /// Design: see <see cref="ReadDelay"/>. The linger polls the segment's record count: the one place that says how
    /// many records are committed without touching the lines the writer is filling. A newer head (this segment is
    /// sealed) or a completed log ends it.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryReadBatch(int maxRecords, int minRecords, TimeSpan maxDelay, out LogBatch batch)
    {
        ThrowIfDisposed();
        if (maxRecords < 1)
        {
            ThrowBatchSize(maxRecords);
        }

        if ((uint)minRecords > (uint)maxRecords)
        {
            ThrowMinRecords(minRecords, maxRecords);
        }

        ReadDelay.Validate(maxDelay);

        // What the last call handed out is judged first, in its own segment: the linger may move the cursor on.
        if (_held != 0)
        {
            _ = SettleHeld();
        }

        if (minRecords > 1 && maxDelay > TimeSpan.Zero && !Linger(Math.Min(minRecords, _log.SegmentCapacity), maxDelay))
        {
            // Nothing was there when the call began: false at once, even if a record arrived since.
            batch = default;
            return false;
        }

        return TryReadBatch(maxRecords, out batch);
    }

    /// <summary>
    /// Spins while some but fewer than <paramref name="minimum"/> records are committed past the cursor, up to
    /// <paramref name="maxDelay"/>; false when none is. A cursor at the end of a sealed segment moves on first, so a
    /// batch that starts a segment lingers as any other.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private bool Linger(int minimum, TimeSpan maxDelay)
    {
        var delay = new ReadDelay(maxDelay, _idle, _log.Shared.YieldsForCrowd(_idle));
        bool present = false;
        for (int moves = 0; moves < 1024;)
        {
            // Acquire: pairs with the release of HeadGeneration in LogAppender.Roll: a newer head means this segment is
            // sealed and its count final. What is left in it is all there: take it now. Nothing left: move on.
            if (Atomic.ReadAcquire(_log.HeadGeneration) > _generation)
            {
                if (_segment.ReadCount() != _index)
                {
                    return true;
                }

                if (!PassEndOfRecords())
                {
                    return false;
                }

                present = false;
                moves++;
                continue;
            }

            // "Some" is the cursor's own length word (the commit); nothing there, and the caller waits instead.
            if (!present)
            {
                if (CommittedLengthAtOffset() == 0)
                {
                    return false;
                }

                present = true;
            }

            // How many: the count (acquire, checked against the capacity), released just after each length word, so it
            // may lag by a record; a lapped slot's count is some other segment's, and the read that follows finds out.
            int available = _segment.ReadCount() - _index;
            if (available >= minimum || _log.CompletedAt >= 0 || !delay.TryPause())
            {
                return true;
            }
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowMinRecords(int minRecords, int maxRecords)
        => ThrowHelper.ThrowArgumentOutOfRange(nameof(minRecords), $"minRecords must be 0 to maxRecords ({maxRecords}); got {minRecords}.");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Validate()
    {
        ThrowIfDisposed();

        // Either way the held records are settled now: the next read must not judge them again.
        return _held == 0 || SettleHeld();
    }

    /// <summary>A lease on the record last returned by <see cref="TryRead"/>, which outlives this reader's next calls.</summary>
    public RecordLease LeaseHeld()
    {
        ThrowIfDisposed();
        if (_held != 1)
        {
            ThrowHelper.ThrowInvalidOperation("Lease the record last returned by TryRead, before the next call; a batch or a validated record cannot be leased.");
        }

        var pin = _log.Pins.Acquire(_generation);
        int length = _segment.ReadLength(_heldOffset);
        if (!_segment.IsRecordLength(_heldOffset, length) || !_segment.Holds(_generation))
        {
            // The length was checked when the record was read; failing now means the slot was reused since (seqlock).
            _log.Pins.Release(pin);
            throw new ReaderEvictedException($"Record {_nextSequence - 1} of '{_log.FilePath}' was overwritten before it could be leased.");
        }

        var record = _segment.RecordAt(_heldOffset, length, _nextSequence - 1);
        return new RecordLease(pin, record.Sequence, record.TypeId, _heldOffset + RecordLayout.HeaderLength, record.Payload.Length);
    }

    /// <summary>The length word at the cursor's offset if a record is committed there, else 0 (none yet, or no room left).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int CommittedLengthAtOffset()
        => _index < _log.SegmentCapacity && _segment.HasRoomAt(_offset) ? _segment.ReadLength(_offset) : 0;

    /// <summary>
    /// Validation of what the last call handed out (seqlock): false, and counted lost, if the slot was reused while it
    /// was held. Inlined into the read paths, which call it on every read after the first; only the loss is a call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool SettleHeld()
    {
        int held = _held;
        _held = 0;
        if (_segment.Holds(_generation))
        {
            return true;
        }

        LoseHeld(held);
        return false;
    }

    /// <summary>The <paramref name="held"/> records handed out were overwritten while held: counts them lost and resumes at the oldest.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void LoseHeld(int held)
    {
        _lease.AddLost(held);
        ResumeAtOldest();
    }

    /// <summary>
    /// Nothing is committed at the cursor's offset: true when the segment is sealed and the cursor moved on (or
    /// resumed after a lap), false when it has caught up with the writer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool PassEndOfRecords()
    {
        // Acquire: pairs with the release of HeadGeneration in LogAppender.Roll; a newer head means this segment is
        // sealed and its count final (released before the head).
        if (Atomic.ReadAcquire(_log.HeadGeneration) <= _generation)
        {
            if (!_segment.Holds(_generation))
            {
                CorruptOrLapped();
                return true;
            }

            PublishPosition();
            return false;
        }

        int count = _segment.ReadCount();
        if (count != _index)
        {
            if (!_segment.Holds(_generation) || count < _index)
            {
                CorruptOrLapped();
                return true;
            }

            // The count was released after the length, so the record is visible now: read it on the next round.
            if (CommittedLengthAtOffset() == 0)
            {
                ThrowHelper.ThrowCorrupt(_log.FilePath, $"segment {_generation} counts {count} records, but record {_index} has no length");
            }

            return true;
        }

        NextSegment();
        return true;
    }

    /// <summary>Out of line: the message's formatting would otherwise put its locals (zeroed on entry) into every batch read.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBatchSize(int maxRecords)
        => ThrowHelper.ThrowArgumentOutOfRange(nameof(maxRecords), $"A batch holds at least one record; got {maxRecords}.");

    private SharedLogException Lapped()
        => new($"The reader of '{_log.FilePath}' could not keep up: it was lapped 1024 times in one call. Use a larger log or a faster reader.");

    public bool HasData
    {
        get
        {
            ThrowIfDisposed();
            return HasDataCore();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        WaitDeadline.Validate(timeout);

        // Disposing the reader from another thread waits for this wait to leave before it lets the mapping go; a
        // reader disposed before the gate's store is seen here (see WaitGate). Nothing reads the mapping before that:
        // the check for data already there is inside too (it was not, and a disposal between the two checks unmapped
        // the file under it).
        _gate.Enter();
        if (!_disposed && HasDataCore())
        {
            // The fast path, outside the try: nothing in the check throws.
            _gate.Leave();
            return true;
        }

        try
        {
            // The crowd count reads the mapping: only once the disposal check has passed.
            return !_disposed
                && _log.Shared.DataSignal.Wait(new DataCondition(this), _log.Shared.IdlerFor(_idle), timeout, cancellationToken);
        }
        finally
        {
            _gate.Leave();
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

        // As in Wait: a disposal from another thread waits for the probe and the registration to leave (once
        // registered, the dispatcher holds the mapping).
        _gate.Enter();
        try
        {
            int state = ((ISignalCondition)this).Probe();
            if (state != 0 || timeout == TimeSpan.Zero)
            {
                return new ValueTask<bool>(state > 0);
            }

            _asyncWaiter ??= new AsyncWaiter(this);
            return _log.Shared.DataSignal.WaitAsync(_asyncWaiter, deadline, cancellationToken);
        }
        finally
        {
            _gate.Leave();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void ISignalCondition.StartTimers() => _watch.Begin();

    /// <summary>
    /// This reader as the condition of its sync waits: a struct, so <see cref="Signal"/>'s wait is compiled for it and
    /// its polls are direct calls to the reader's own (sealed) implementation instead of interface calls.
    /// </summary>
    private readonly struct DataCondition(LogCursor cursor) : ISignalCondition
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool IsReady() => ((ISignalCondition)cursor).IsReady();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Probe() => ((ISignalCondition)cursor).Probe();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void StartTimers() => ((ISignalCondition)cursor).StartTimers();
    }

    /// <summary>The spinning wait's poll: the next length word, the head, the slot's generation (all checked again by the probe).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    bool ISignalCondition.IsReady() => HasDataCore();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

        // Wakes a sync wait of another thread and waits for it to leave: the lease holds this reader's mapping reference.
        _gate.Drain(_log.Shared.DataSignal);
        _lease.Dispose();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool HasDataCore()
        => CommittedLengthAtOffset() != 0 || Atomic.ReadAcquire(_log.HeadGeneration) > _generation || !_segment.Holds(_generation);

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

        MoveTo(_generation + 1, 0, 0);
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

    /// <summary>Points the cursor at record <paramref name="index"/> of a segment, which starts at <paramref name="offset"/> of its data.</summary>
    private void MoveTo(long generation, int index, int offset)
    {
        _generation = generation;
        _segment = _log.SegmentAt(generation);
        _index = index;
        _offset = offset;
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
                if (SeekWithin(generation, _nextSequence))
                {
                    return;
                }

                continue;
            }

            if (started && first > _nextSequence)
            {
                _lease.AddLost(first - _nextSequence);
            }

            MoveTo(generation, 0, 0);
            _nextSequence = first;
            return;
        }

        throw new SharedLogException($"The reader of '{_log.FilePath}' could not find a stable oldest segment; the writer is reusing segments faster than they can be pinned.");
    }

    /// <summary>
    /// Positions at <paramref name="sequence"/>, which lies in or after <paramref name="fromGeneration"/> (pinned).
    /// False when a segment on the way was reused meanwhile (the caller pins again).
    /// </summary>
    private bool SeekWithin(long fromGeneration, long sequence)
    {
        long head = Atomic.ReadAcquire(_log.HeadGeneration);
        for (long g = fromGeneration; g <= head; g++)
        {
            var segment = _log.SegmentAt(g);
            long first = segment.ReadFirstSequence();
            int count = segment.ReadCount();
            if (sequence < first + count || g == head)
            {
                int index = (int)Math.Clamp(sequence - first, 0, count);
                int offset = segment.OffsetOf(index);
                if (!segment.Holds(g))
                {
                    return false;
                }

                if (offset < 0)
                {
                    ThrowHelper.ThrowCorrupt(_log.FilePath, $"record {index - 1} of segment {g} has an invalid offset or length");
                }

                MoveTo(g, index, offset);
                _nextSequence = first + index;
                _lease.MovePin(g);
                return true;
            }
        }

        return false;
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

            int offset = segment.OffsetOf(count);
            if (!segment.Holds(pinned))
            {
                continue;
            }

            if (offset < 0)
            {
                ThrowHelper.ThrowCorrupt(_log.FilePath, $"record {count - 1} of segment {pinned} has an invalid offset or length");
            }

            MoveTo(pinned, count, offset);
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
