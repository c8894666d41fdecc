using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SharedLog.Layout;
using SharedLog.Leases;
using SharedLog.Memory;
using SharedLog.Platform;
using SharedLog.Waiting;

namespace SharedLog.Log;

/// <summary>
/// The core of a <see cref="LogWriter"/>: appends, claims, rolls and recovers, holding the writer lease. Internal: the
/// public writer validates arguments and forwards here; nothing here is reachable once the writer is disposed.
/// </summary>
/// <remarks>
/// Design: the writer alone writes segment slots, the head and oldest generations. An append reserves room, writes the
/// payload in place and commits it through <see cref="Segment.Commit"/> (length, then count, each a release store).
/// Rolling to a new segment retires the oldest segments (raise Oldest, full fence), checks reader pins for the slot it
/// will reuse (block, evict or give up, by policy), marks the slot as being reused (generation -1, full fence) before
/// writing anything into it, and publishes the new head last. A writer killed at any step leaves a prefix of committed
/// records; <see cref="Segment.Recover"/> publishes every record whose length was written and the writer resumes after
/// it. After each commit the writer notifies the data signal (one load, plus a full fence in a process without
/// asymmetric fences; a wake-up only when a reader sleeps); it sleeps on the space signal when it must wait for a slow
/// reader. Under Unbounded retention nothing is retired or reused: before rolling into a generation beyond the file's
/// extents the writer grows the file (<see cref="LogFile.GrowFor"/>), then rolls as usual.
/// Every write path checks the lease first (<see cref="WriterLease.ThrowIfLost"/>), and every reservation (an open
/// claim or record writer) carries a number: a later append or claim discards it, and committing it then throws.
/// </remarks>
internal sealed unsafe class LogAppender
{
    private const int ReapPeriodMs = 100;
    private readonly LogFile _log;
    private readonly WriterLease _lease;
    private readonly int _segmentBytes;
    private readonly int _segmentCapacity;
    private readonly Signal _dataSignal;
    private IdleStrategy _idle = IdleStrategy.Default;
    private long _headGeneration;
    private Segment _segment;
    private int _count;
    private int _offset;
    private long _nextSequence;
    private long _reservation;
    private bool _reservationOpen;
    private int _reservedTypeId;
    private bool _completed;
    private MappedMemoryManager?[]? _segmentMemory;
    private long _segmentMemoryGeneration = -1;
    private bool _disposed;
    private long _lastImmediateReapMs = long.MinValue / 2;

    /// <summary>Takes over <paramref name="lease"/> (disposing it if recovery fails) and recovers what a previous writer left.</summary>
    public LogAppender(LogFile log, WriterLease lease)
    {
        _log = log;
        _lease = lease;
        _segmentBytes = log.SegmentBytes;
        _segmentCapacity = log.SegmentCapacity;
        _dataSignal = log.Shared.DataSignal;
        try
        {
            Recover();
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    public bool IsDisposed => _disposed;

    /// <summary>Whether the log is completed (by this writer or an earlier one); appends throw until <see cref="Reopen"/>.</summary>
    public bool IsCompleted
    {
        get
        {
            ThrowIfDisposed();
            return _completed;
        }
    }

    /// <summary>Ends the stream at <see cref="NextSequence"/>: readers drain, then their reads and waits end. Idempotent.</summary>
    public void Complete()
    {
        ThrowIfDisposed();
        if (_completed)
        {
            return;
        }

        _lease.ThrowIfLost();
        _reservation++;
        _reservationOpen = false;
        _completed = true;

        // Release: after the last record's count; pairs with the acquire in LogFile.CompletedAt.
        Atomic.WriteRelease(_log.CompletedSequence, _nextSequence + 1);
        _dataSignal.Notify();
    }

    /// <summary>Opens a completed log for appends again; readers that ended may wait again. No effect on an open log.</summary>
    public void Reopen()
    {
        ThrowIfDisposed();
        if (!_completed)
        {
            return;
        }

        _lease.ThrowIfLost();
        _completed = false;

        // Release: pairs with the acquire in LogFile.CompletedAt; readers see the log open again.
        Atomic.WriteRelease(_log.CompletedSequence, LogLayout.NotCompleted);
        _dataSignal.Notify();
    }

    /// <summary>The sequence number the next append gets.</summary>
    public long NextSequence
    {
        get
        {
            ThrowIfDisposed();
            return _nextSequence;
        }
    }

    /// <summary>How the writer waits for a slow reader under <see cref="SlowReaderPolicy.Block"/>.</summary>
    public IdleStrategy IdleStrategy
    {
        get => _idle;
        set => _idle = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The largest payload one record can hold (a segment's bytes less the record header).</summary>
    public int MaxPayloadLength => _segmentBytes - RecordLayout.HeaderLength;

    /// <summary>The number of the open reservation (claim or record writer); a later reservation discards it.</summary>
    public long Reservation => _reservation;

    /// <summary>Free payload bytes after the open reservation's start in the current segment.</summary>
    public int FreeInSegment => _segmentBytes - _offset - RecordLayout.HeaderLength;

    /// <summary>Appends a record; under <see cref="SlowReaderPolicy.Block"/> it may wait for slow readers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long Append(ReadOnlySpan<byte> payload, int typeId)
    {
        byte* record = Reserve(payload.Length, wait: true);
        SmallCopy.Copy(payload, new Span<byte>(record + RecordLayout.HeaderLength, payload.Length));
        return Publish(payload.Length, typeId);
    }

    /// <summary>Appends unless that would mean waiting for a slow reader.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryAppend(ReadOnlySpan<byte> payload, int typeId, out long sequence)
    {
        byte* record = Reserve(payload.Length, wait: false);
        if (record == null)
        {
            sequence = -1;
            return false;
        }

        SmallCopy.Copy(payload, new Span<byte>(record + RecordLayout.HeaderLength, payload.Length));
        sequence = Publish(payload.Length, typeId);
        return true;
    }

    /// <summary>Opens a reservation of <paramref name="length"/> payload bytes; returns the span to write.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public Span<byte> Claim(int length, int typeId)
    {
        byte* record = Reserve(length, wait: true);
        _reservationOpen = true;
        _reservedTypeId = typeId;
        return new Span<byte>(record + RecordLayout.HeaderLength, length);
    }

    /// <summary>Opens a reservation that grows as a record writer writes; nothing is reserved beyond the record header.</summary>
    public void BeginRecord(int typeId) => Claim(0, typeId);

    /// <summary>
    /// The open reservation <paramref name="reservation"/>'s space from <paramref name="written"/> bytes on, at least
    /// <paramref name="sizeHint"/> long: moves the bytes written so far into a fresh segment when the current one has
    /// too little room left.
    /// </summary>
    public Span<byte> ReservationSpan(long reservation, int written, int sizeHint)
    {
        ThrowIfNotOpen(reservation);
        int wanted = Math.Max(sizeHint, 1);
        if (wanted > FreeInSegment - written)
        {
            long needed = (long)written + wanted;
            if (needed > MaxPayloadLength)
            {
                ThrowHelper.ThrowInvalidOperation(
                    $"The record would grow to {needed} bytes; the largest record is {MaxPayloadLength} bytes. Create the log with a larger SegmentBytes.");
            }

            Relocate(written);
        }

        return new Span<byte>(_segment.RecordAt(_offset) + RecordLayout.HeaderLength + written, FreeInSegment - written);
    }

    /// <summary>Like <see cref="ReservationSpan"/>, as <see cref="Memory{T}"/> over the mapping (one manager per segment slot, made once).</summary>
    public Memory<byte> ReservationMemory(long reservation, int written, int sizeHint)
    {
        int length = ReservationSpan(reservation, written, sizeHint).Length;
        var managers = _segmentMemory ??= new MappedMemoryManager?[_log.SlotCount];
        int slot = (int)((ulong)_headGeneration % (ulong)_log.SlotCount);
        var manager = managers[slot];
        if (manager is null || (_log.IsUnbounded && _segmentMemoryGeneration != _headGeneration))
        {
            // Under Unbounded every segment has its own slot: one manager for the head, made once per segment.
            manager = managers[slot] = new MappedMemoryManager(_segment.RecordAt(0), _segmentBytes);
            _segmentMemoryGeneration = _headGeneration;
        }
        return manager.Memory.Slice(_offset + RecordLayout.HeaderLength + written, length);
    }

    /// <summary>Room left in the open reservation <paramref name="reservation"/> after <paramref name="written"/> bytes, without moving it.</summary>
    public int ReservationFree(long reservation, int written)
    {
        ThrowIfNotOpen(reservation);
        return FreeInSegment - written;
    }

    /// <summary>Publishes <paramref name="length"/> bytes of the open reservation <paramref name="reservation"/> as a record.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long CommitReservation(long reservation, int length)
    {
        ThrowIfNotOpen(reservation);
        if ((uint)length > (uint)FreeInSegment)
        {
            ThrowCommitTooLong(length);
        }

        _reservationOpen = false;
        return Publish(length, _reservedTypeId);
    }

    /// <summary>Releases the writer lease; any process may then claim the writer.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _reservationOpen = false;
        _lease.Dispose();
    }

    /// <summary>Room for a record of <paramref name="payloadLength"/> at the write offset; rolls first if needed. Discards an open reservation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private byte* Reserve(int payloadLength, bool wait)
    {
        ThrowIfDisposed();
        if ((uint)payloadLength > (uint)(_segmentBytes - RecordLayout.HeaderLength))
        {
            ThrowTooLarge(payloadLength);
        }

        _lease.ThrowIfLost();
        if (_completed)
        {
            ThrowCompleted();
        }

        _reservation++;
        _reservationOpen = false;
        if (_count == _segmentCapacity || RecordLayout.AlignedLength(payloadLength) > _segmentBytes - _offset)
        {
            if (!Roll(wait))
            {
                return null;
            }
        }

        return _segment.RecordAt(_offset);
    }

    /// <summary>Moves the open reservation's first <paramref name="written"/> bytes into a fresh segment.</summary>
    private void Relocate(int written)
    {
        var saved = new ReadOnlySpan<byte>(_segment.RecordAt(_offset) + RecordLayout.HeaderLength, written).ToArray();
        if (!Roll(wait: true))
        {
            ThrowHelper.ThrowInvalidOperation("Could not roll to a new segment.");
        }

        saved.CopyTo(new Span<byte>(_segment.RecordAt(_offset) + RecordLayout.HeaderLength, written));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long Publish(int payloadLength, int typeId)
    {
        _offset = _segment.Commit(_count, _offset, payloadLength, typeId);
        _count++;

        // Wakes readers sleeping for data, only if there are any (one load otherwise; see Signal.Notify).
        _dataSignal.Notify();
        return _nextSequence++;
    }

    /// <summary>Seals the head and rolls into the next segment (false when that would mean waiting and it may not). Kept out of the append's code: once per segment.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool Roll(bool wait)
    {
        long generation = _headGeneration + 1;
        if (_log.IsUnbounded)
        {
            // Nothing is retired or reused: grow when the next segment lies beyond the extents, then roll into it.
            _log.GrowFor(generation);
            _lease.ThrowIfLost();
            PublishHead(generation);
            return true;
        }

        long oldest = Math.Max(0, generation - _log.RetainedSegments);
        if (oldest > *_log.OldestGeneration)
        {
            // Release: retires segments before the pin scan; pairs with ReadAcquire in ReaderTable.PinOldest.
            Atomic.WriteRelease(_log.OldestGeneration, oldest);
        }

        Atomic.FullFence();
        long reused = generation - _log.SlotCount;
        if (reused >= 0 && !AwaitFree(reused, wait))
        {
            return false;
        }

        // The wait may have lasted long enough for the lease to be taken over: check before overwriting a slot.
        _lease.ThrowIfLost();
        PublishHead(generation);
        return true;
    }

    /// <summary>Initialises the slot of <paramref name="generation"/> and publishes it as the head.</summary>
    private void PublishHead(long generation)
    {
        var segment = _log.SegmentAt(generation);
        segment.MarkReusing();
        segment.Initialise(_nextSequence);
        segment.PublishGeneration(generation);

        // Release: seals the old head (its count is final) and publishes the new one; pairs with ReadAcquire of HeadGeneration.
        Atomic.WriteRelease(_log.HeadGeneration, generation);
        Attach(generation, segment, 0, 0);
    }

    /// <summary>Waits (or evicts) until no live reader pins <paramref name="generation"/>. False when it would have to wait and may not.</summary>
    private bool AwaitFree(long generation, bool wait)
    {
        var readers = _log.Shared.Readers;
        if (readers.MinPin(reap: false, out _) > generation)
        {
            return true;
        }

        // Reaping asks the OS about each lagging owner (a /proc read): at most once a second on this path, so a
        // slow live reader under Evict does not cost the writer a system call and garbage on every roll.
        long nowMs = ProcessIdentity.NowMs;
        if (nowMs - _lastImmediateReapMs >= 1000)
        {
            _lastImmediateReapMs = nowMs;
            if (readers.MinPin(reap: true, out _) > generation)
            {
                return true;
            }
        }

        if (_log.Shared.Header.Policy == SlowReaderPolicy.Evict)
        {
            readers.EvictAtOrBelow(generation);
            return true;
        }

        if (!wait)
        {
            return false;
        }

        // Sleeps on the space signal (readers notify when they move or drop a pin) in slices, reaping dead readers
        // every ReapPeriodMs, until the slowest reader moves past the generation or the timeout evicts it.
        var space = _log.Shared.SpaceSignal;
        long now = Stopwatch.GetTimestamp();
        long deadline = now + (long)(_log.Shared.Header.SlowReaderTimeout.TotalSeconds * Stopwatch.Frequency);
        long reapPeriod = ReapPeriodMs * Stopwatch.Frequency / 1000;
        long nextReap = now + reapPeriod;
        var idler = _log.Shared.IdlerFor(_idle);
        while (true)
        {
            bool reap = now >= nextReap;
            if (reap)
            {
                nextReap = now + reapPeriod;
            }

            if (readers.MinPin(reap, out _) > generation)
            {
                return true;
            }

            if (now >= deadline)
            {
                readers.EvictAtOrBelow(generation);
                return true;
            }

            if (idler.ShouldBlock)
            {
                int value = space.PrepareSleep();
                if (readers.MinPin(reap: false, out _) > generation)
                {
                    return true;
                }

                space.Sleep(value, Math.Min(deadline, nextReap));
            }
            else
            {
                idler.Pause();
            }

            now = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>
    /// Resumes after whatever the previous writer left: publishes every record whose length word was written (its
    /// commit) but whose count was not, and starts writing after the last one.
    /// </summary>
    private void Recover()
    {
        // Never append to a window that does not add up (hostile or corrupt file): TryClaimWriter throws instead.
        _log.ValidateWindow();
        long head = Atomic.ReadAcquire(_log.HeadGeneration);
        var segment = _log.SegmentAt(head);
        if (segment.ReadGeneration() != head)
        {
            ThrowHelper.ThrowCorrupt(_log.FilePath, $"the head segment slot does not hold generation {head}");
        }

        int published = segment.ReadCount();
        var (count, offset) = segment.Recover(head);
        if (count != published)
        {
            _dataSignal.Notify();
        }

        _nextSequence = segment.ReadFirstSequence() + count;
        long completedAt = _log.CompletedAt;
        if (completedAt >= 0 && completedAt != _nextSequence)
        {
            // Nothing is appended after Complete, so a completed log ends exactly at its next sequence.
            ThrowHelper.ThrowCorrupt(_log.FilePath, $"it says it was completed at sequence {completedAt}, but its records end at {_nextSequence}");
        }

        _completed = completedAt >= 0;
        Attach(head, segment, count, offset);
    }

    private void Attach(long generation, Segment segment, int count, int offset)
    {
        _headGeneration = generation;
        _segment = segment;
        _count = count;
        _offset = offset;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowDisposed(nameof(LogWriter));
        }
    }

    private void ThrowIfNotOpen(long reservation)
    {
        ThrowIfDisposed();
        if (!_reservationOpen || reservation != _reservation)
        {
            ThrowHelper.ThrowInvalidOperation("This claim or record was already committed, or was discarded by a later append, claim or record.");
        }

        _lease.ThrowIfLost();
    }

    private void ThrowCompleted()
        => ThrowHelper.ThrowInvalidOperation(
            $"The log '{_log.FilePath}' was completed at sequence {_nextSequence}; nothing more can be appended. Call Reopen() to continue the stream.");

    /// <summary>Out of line, as every throw on the append paths: the message's formatting would otherwise put its locals into every commit.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowCommitTooLong(int length)
        => ThrowHelper.ThrowArgumentOutOfRange(nameof(length), $"Cannot commit {length} bytes: only {FreeInSegment} were reserved.");

    private void ThrowTooLarge(int payloadLength)
        => ThrowHelper.ThrowArgumentOutOfRange("payload",
            $"A {payloadLength}-byte payload does not fit in a segment; the largest is {MaxPayloadLength} bytes. Create the log with a larger SegmentBytes.");
}
