using System.Diagnostics;
using System.Runtime.CompilerServices;
using SharedLog.Layout;
using SharedLog.Log;
using SharedLog.Memory;
using SharedLog.Platform;
using SharedLog.Readers;
using SharedLog.Waiting;

namespace SharedLog;

/// <summary>
/// A tailing cursor over a <see cref="SegmentedLog"/>, in this or any other process. Not thread-safe: one thread
/// reads at a time.
/// </summary>
/// <remarks>
/// Design: the reader owns one reader slot and pins the generation of the segment it reads. It moves the pin only
/// forward, with a release store, as it crosses into the next segment (the old pin protected the new segment too, so
/// there is no window). Records are read in place; the record last returned is validated at the next call (or by
/// <see cref="Validate"/>): a load fence, then the slot's generation is re-read. If the writer reused the slot
/// (it sets the generation to -1 with a full fence before overwriting anything), the record and everything up to
/// the oldest retained record count in <see cref="LostCount"/>, and the reader re-arms its slot and resumes there.
/// Waiting idles by the reader's <see cref="IdleStrategy"/> on the log's data signal (the writer wakes sleepers);
/// every pin move or release notifies the space signal, which wakes a writer blocked for space only if it sleeps.
/// </remarks>
public sealed unsafe class LogReader : IDisposable, ISignalCondition
{
    private readonly SegmentedLog _owner;
    private readonly LogFile _log;
    private int _slotIndex;
    private long _slotOwner;
    private object _heartbeat;
    private byte* _readerSlot;
    private long _generation;
    private byte* _slot;
    private int _index;
    private long _nextSequence;
    private long _lost;
    private bool _holding;
    private int _knownCount;
    private volatile bool _disposed;
    private IdleStrategy _idle;
    private AsyncWaiter? _asyncWaiter;

    internal LogReader(SegmentedLog owner, LogFile log, ReadFrom from, IdleStrategy? idle)
    {
        _owner = owner;
        _log = log;
        _idle = idle ?? IdleStrategy.Default;
        log.Region.AddRef();
        try
        {
            _slotIndex = log.Readers.Claim(ReaderSlotLayout.RoleReader, out _slotOwner);
        }
        catch
        {
            log.Region.Release();
            throw;
        }

        _readerSlot = log.Readers.Slot(_slotIndex);
        _heartbeat = Heartbeat.Register(log.Region, log.Readers.SlotOffset(_slotIndex), _slotOwner);
        ReaderTable.Activate(_readerSlot);
        if (from == ReadFrom.Oldest)
        {
            ResumeAtOldest();
            _lost = 0;
        }
        else
        {
            StartAtLatest();
        }
    }

    /// <summary>The sequence number of the next record <see cref="TryRead"/> returns.</summary>
    public long NextSequence => _nextSequence;

    /// <summary>Records this reader lost because the writer overwrote them before they were read (or while one was held).</summary>
    public long LostCount => _lost;

    /// <summary>How <see cref="Wait(TimeSpan)"/> idles while no record is available. Default <see cref="IdleStrategy.Blocking"/>.</summary>
    public IdleStrategy IdleStrategy
    {
        get => _idle;
        set => _idle = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The reader-table slot this reader occupies (for diagnostics).</summary>
    public int SlotIndex => _slotIndex;

    /// <summary>
    /// Returns the next record, or false when the reader has caught up with the writer. The record's payload is in
    /// place and valid until the next call on this reader.
    /// </summary>
    public bool TryRead(out LogRecord record)
    {
        ThrowIfDisposed();
        if (_holding)
        {
            _holding = false;
            if (!IsIntact())
            {
                _lost++;
                ResumeAtOldest();
            }
        }

        for (int attempt = 0; attempt < 1024; attempt++)
        {
            // The writer rewrites the shared count on every append: re-read it (a cache miss) only once the records
            // it already announced are consumed. Reading under a stale count is safe: IsIntact checks the generation.
            int count = _index < _knownCount ? _knownCount : (_knownCount = _log.ReadCount(_slot));
            if (_index < count)
            {
                if (_log.TryLocate(_slot, _index, out byte* bytes, out int payloadLength) && IsIntact())
                {
                    record = new LogRecord(_nextSequence, *(int*)(bytes + RecordLayout.TypeIdOffset), new ReadOnlySpan<byte>(bytes + RecordLayout.HeaderLength, payloadLength));
                    _index++;
                    _nextSequence++;
                    _holding = true;
                    return true;
                }

                CorruptOrLapped();
                continue;
            }

            // Acquire: pairs with the release of HeadGeneration in LogWriter.Roll; a newer head means this segment is sealed.
            if (Atomic.ReadAcquire(_log.HeadGeneration) <= _generation || _log.ReadCount(_slot) > _index)
            {
                if (!IsIntact())
                {
                    CorruptOrLapped();
                    continue;
                }

                record = default;
                return false;
            }

            NextSegment();
        }

        throw new SharedLogException($"The reader of '{_log.FilePath}' could not keep up: it was lapped 1024 times in one call. Use a larger log or a faster reader.");
    }

    /// <summary>
    /// True when the record last returned by <see cref="TryRead"/> was not overwritten while it was held. When false,
    /// that record counts in <see cref="LostCount"/> and the reader resumes at the oldest retained record.
    /// </summary>
    public bool Validate()
    {
        ThrowIfDisposed();
        if (!_holding)
        {
            return true;
        }

        // Either way the record is settled now: TryRead must not judge it again.
        _holding = false;
        if (IsIntact())
        {
            return true;
        }

        _lost++;
        ResumeAtOldest();
        return false;
    }

    /// <summary>Whether a record is available now.</summary>
    public bool HasData
    {
        get
        {
            ThrowIfDisposed();
            return HasDataCore();
        }
    }

    /// <summary>
    /// Waits until a record is available or the timeout passes, idling by <see cref="IdleStrategy"/>. True when data
    /// is available; false on timeout, or when the log is disposed with nothing left to read.
    /// </summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits until data arrives.</param>
    public bool Wait(TimeSpan timeout) => Wait(timeout, CancellationToken.None);

    /// <summary>
    /// Waits until a record is available, the timeout passes (false) or <paramref name="cancellationToken"/> is
    /// cancelled (<see cref="OperationCanceledException"/>). Disposing the reader or its log from another thread ends
    /// the wait promptly.
    /// </summary>
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
        _log.Region.AddRef();
        try
        {
            return _log.DataSignal.Wait(this, _idle, deadline, cancellationToken);
        }
        finally
        {
            _log.Region.Release();
        }
    }

    /// <summary>
    /// Completes true when a record is available, false when this reader or its log is disposed while waiting;
    /// throws <see cref="OperationCanceledException"/> on cancellation. No thread is held while it waits (one
    /// dispatcher thread per log and process sleeps for all async waits), and steady-state waits allocate nothing.
    /// </summary>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken = default)
        => WaitAsync(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Like <see cref="WaitAsync(CancellationToken)"/>, and also completes false when <paramref name="timeout"/>
    /// passes first.
    /// </summary>
    public ValueTask<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        long deadline = WaitDeadline.From(timeout);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        int state = ((ISignalCondition)this).Probe();
        if (state != 0 || timeout == TimeSpan.Zero)
        {
            return new ValueTask<bool>(state > 0);
        }

        _asyncWaiter ??= new AsyncWaiter(this);
        return _log.DataSignal.WaitAsync(_asyncWaiter, deadline, cancellationToken);
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

        return _owner.IsDisposed ? -1 : 0;
    }

    /// <summary>Gives the reader slot back.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _asyncWaiter?.TryComplete(false);
        _log.DataSignal.KickLocalWaiters();
        Heartbeat.Unregister(_heartbeat);
        _log.Readers.Release(_slotIndex, _slotOwner);

        // The released pin may free the segment a blocked writer waits for.
        _log.SpaceSignal.Notify();
        _log.Region.Release();
    }

    private bool HasDataCore()
        => _log.ReadCount(_slot) > _index || Atomic.ReadAcquire(_log.HeadGeneration) > _generation || !IsIntact();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsIntact()
    {
        // Load fence: the record's bytes were read before the generation is re-read (seqlock); pairs with the full
        // fence after the writer marks a slot as being reused in LogWriter.Roll.
        Atomic.LoadFence();
        return Atomic.ReadAcquire(LogFile.GenerationOf(_slot)) == _generation;
    }

    private void NextSegment()
    {
        if (!OwnerBlock.IsOwnedBy(_readerSlot, _slotOwner))
        {
            // The slot was reaped (see Reregister): our pin protected nothing since, so resume as if evicted.
            ResumeAtOldest();
            return;
        }

        // The count that said "segment done" must have been this generation's: a lapped slot holds another
        // segment's (smaller) count, and moving on from it would skip records without counting them.
        if (!IsIntact())
        {
            CorruptOrLapped();
            return;
        }

        MoveTo(_generation + 1, _log.Slot(_generation + 1), 0);

        // Release: moving the pin forward is always safe (the old pin covered this generation too).
        Atomic.WriteRelease((long*)(_readerSlot + ReaderSlotLayout.PinOffset), _generation);

        // The old generation may be what a blocked writer waits for: wake it, only if it sleeps.
        _log.SpaceSignal.Notify();
        if (ReaderTable.IsEvicted(_readerSlot))
        {
            ReaderTable.Activate(_readerSlot);
        }

        // Seqlock: the first sequence is trusted only if the slot still holds the generation after reading it.
        long first = Atomic.ReadAcquire(LogFile.FirstSequenceOf(_slot));
        if (!IsIntact())
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
    private void MoveTo(long generation, byte* slot, int index)
    {
        _generation = generation;
        _slot = slot;
        _index = index;
        _knownCount = 0;
    }

    /// <summary>The slot's bytes did not describe a record: overwritten under us (resume) or corrupt (throw).</summary>
    private void CorruptOrLapped()
    {
        if (IsIntact())
        {
            ThrowHelper.ThrowCorrupt(_log.FilePath, $"record {_index} of segment {_generation} has an invalid offset or length");
        }

        ResumeAtOldest();
    }

    /// <summary>Re-arms the slot, pins the oldest retained generation and counts what was skipped.</summary>
    private void ResumeAtOldest()
    {
        if (!OwnerBlock.IsOwnedBy(_readerSlot, _slotOwner))
        {
            Reregister();
        }

        ReaderTable.Activate(_readerSlot);
        for (int attempt = 0; attempt < 1024; attempt++)
        {
            long head = Atomic.ReadAcquire(_log.HeadGeneration);
            long generation = ReaderTable.PinOldest(_readerSlot, _log.OldestGeneration, 0);
            _log.SpaceSignal.Notify();
            byte* slot = _log.Slot(generation);
            long first = Atomic.ReadAcquire(LogFile.FirstSequenceOf(slot));
            Atomic.LoadFence();
            if (Atomic.ReadAcquire(LogFile.GenerationOf(slot)) != generation)
            {
                _log.ThrowIfWindowUnchanged(head, generation, $"the slot of the oldest segment {generation} does not hold it");
                continue;
            }

            if (_slot != null && first < _nextSequence)
            {
                // Our position is still retained (the pin was lost, not the data): never go back.
                SeekWithin(generation, _nextSequence);
                return;
            }

            if (_slot != null && first > _nextSequence)
            {
                _lost += first - _nextSequence;
                Atomic.WriteRelease((long*)(_readerSlot + ReaderSlotLayout.LostCountOffset), _lost);
            }

            MoveTo(generation, slot, 0);
            _nextSequence = first;
            return;
        }

        throw new SharedLogException($"The reader of '{_log.FilePath}' could not find a stable oldest segment; the writer is reusing segments faster than they can be pinned.");
    }

    /// <summary>
    /// Claims a new reader slot after ours was taken. That happens to a live reader only when the OS cannot tell
    /// whether it runs (another pid namespace) and its heartbeat stalled past the timeout: another process reaped the
    /// slot and may own it now. From then on this reader never writes to the old slot (every write to the slot is
    /// preceded by an ownership check); it registers anew and resumes like an evicted reader, counting what it missed.
    /// </summary>
    private void Reregister()
    {
        Heartbeat.Unregister(_heartbeat);
        _slotIndex = _log.Readers.Claim(ReaderSlotLayout.RoleReader, out _slotOwner);
        _readerSlot = _log.Readers.Slot(_slotIndex);
        _heartbeat = Heartbeat.Register(_log.Region, _log.Readers.SlotOffset(_slotIndex), _slotOwner);
        Atomic.WriteRelease((long*)(_readerSlot + ReaderSlotLayout.LostCountOffset), _lost);
    }

    /// <summary>Positions at <paramref name="sequence"/>, which lies in or after <paramref name="fromGeneration"/>.</summary>
    private void SeekWithin(long fromGeneration, long sequence)
    {
        long head = Atomic.ReadAcquire(_log.HeadGeneration);
        for (long g = fromGeneration; g <= head; g++)
        {
            byte* slot = _log.Slot(g);
            long first = Atomic.ReadAcquire(LogFile.FirstSequenceOf(slot));
            int count = _log.ReadCount(slot);
            if (sequence < first + count || g == head)
            {
                MoveTo(g, slot, (int)Math.Clamp(sequence - first, 0, count));
                _nextSequence = first + _index;
                Atomic.WriteRelease((long*)(_readerSlot + ReaderSlotLayout.PinOffset), g);
                _log.SpaceSignal.Notify();
                return;
            }
        }
    }

    private void StartAtLatest()
    {
        for (int attempt = 0; attempt < 1024; attempt++)
        {
            long head = Atomic.ReadAcquire(_log.HeadGeneration);
            long pinned = ReaderTable.PinOldest(_readerSlot, _log.OldestGeneration, head);
            byte* slot = _log.Slot(pinned);
            int count = _log.ReadCount(slot);
            long first = Atomic.ReadAcquire(LogFile.FirstSequenceOf(slot));
            Atomic.LoadFence();
            if (Atomic.ReadAcquire(LogFile.GenerationOf(slot)) != pinned)
            {
                if (pinned == head)
                {
                    _log.ThrowIfWindowUnchanged(head, Atomic.ReadAcquire(_log.OldestGeneration), $"the head segment slot does not hold generation {head}");
                }

                continue;
            }

            MoveTo(pinned, slot, count);
            _nextSequence = first + count;
            return;
        }

        throw new SharedLogException($"The reader of '{_log.FilePath}' could not find a stable head segment.");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowDisposed(nameof(LogReader));
        }
    }
}
