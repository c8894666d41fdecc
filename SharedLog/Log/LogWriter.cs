using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SharedLog.Layout;
using SharedLog.Log;
using SharedLog.Memory;
using SharedLog.Platform;
using SharedLog.Readers;
using SharedLog.Waiting;

namespace SharedLog;

/// <summary>
/// The single writer of a <see cref="SegmentedLog"/>. Holds the writer lease until disposed. Not thread-safe: one
/// thread appends at a time.
/// </summary>
/// <remarks>
/// Design: the writer alone writes segment slots, the head and oldest generations. An append writes the type id and
/// payload, zeroes the next record's length word, writes the index entry, then commits with a release store of the
/// record length and a release store of the segment's record count (readers acquire the count). Rolling to a new
/// segment retires the oldest segments (raise Oldest, full fence), checks reader pins for the slot it will reuse
/// (block, evict or give up, by policy), marks the slot as being reused (generation -1, full fence) before writing
/// anything into it, and publishes the new head last. A writer killed at any step leaves a prefix of committed
/// records; <see cref="Recover"/> publishes every record whose length was written and resumes after it. After each
/// commit the writer notifies the data signal (a full fence and one load; a wake-up only when a reader sleeps); it
/// sleeps on the space signal when it must wait for a slow reader.
/// </remarks>
public sealed unsafe class LogWriter : IDisposable
{
    private const int ReapPeriodMs = 100;
    private readonly LogFile _log;
    private readonly long _owner;
    private readonly object _heartbeat;
    private readonly int _segmentBytes;
    private readonly int _segmentCapacity;
    private readonly Signal _dataSignal;
    private IdleStrategy _idle = IdleStrategy.Default;
    private long _headGeneration;
    private byte* _slot;
    private byte* _data;
    private int* _index;
    private int* _countAddress;
    private int _count;
    private int _offset;
    private long _nextSequence;
    private int _claimOffset = -1;
    private LogRecordWriter? _recordWriter;
    private bool _disposed;
    private long _lastImmediateReapMs = long.MinValue / 2;

    internal LogWriter(LogFile log, long owner)
    {
        _log = log;
        _owner = owner;
        _segmentBytes = log.SegmentBytes;
        _segmentCapacity = log.SegmentCapacity;
        _dataSignal = log.DataSignal;
        log.Region.AddRef();
        try
        {
            Recover();
        }
        catch
        {
            OwnerBlock.Release(log.WriterBlock, owner);
            log.Region.Release();
            throw;
        }

        _heartbeat = Heartbeat.Register(log.Region, FileLayout.WriterOwnerOffset, owner);
    }

    /// <summary>The sequence number the next append gets.</summary>
    public long NextSequence => _nextSequence;

    /// <summary>
    /// How the writer waits for a slow reader to free a segment under <see cref="SlowReaderPolicy.Block"/>.
    /// Default <see cref="IdleStrategy.Blocking"/>.
    /// </summary>
    public IdleStrategy IdleStrategy
    {
        get => _idle;
        set => _idle = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The largest payload one record can hold (a segment's bytes less the record header).</summary>
    public int MaxPayloadLength => _segmentBytes - RecordLayout.HeaderLength;

    /// <summary>Appends a record with type id 0 and returns its sequence number. Under <see cref="SlowReaderPolicy.Block"/> it may wait for slow readers.</summary>
    public long Append(ReadOnlySpan<byte> payload) => Append(payload, 0);

    /// <summary>Appends a record with a user type id and returns its sequence number.</summary>
    public long Append(ReadOnlySpan<byte> payload, int typeId)
    {
        byte* record = Reserve(payload.Length, wait: true);
        payload.CopyTo(new Span<byte>(record + RecordLayout.HeaderLength, payload.Length));
        return Publish(record, payload.Length, typeId);
    }

    /// <summary>Appends the bytes of an unmanaged value as a record with type id 0.</summary>
    public long Append<T>(in T value)
        where T : unmanaged
        => Append(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)), 0);

    /// <summary>Appends the bytes of an unmanaged value with a user type id.</summary>
    public long Append<T>(in T value, int typeId)
        where T : unmanaged
        => Append(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)), typeId);

    /// <summary>Appends unless that would mean waiting for a slow reader; then returns false and appends nothing.</summary>
    public bool TryAppend(ReadOnlySpan<byte> payload, out long sequence) => TryAppend(payload, 0, out sequence);

    /// <summary>Appends with a type id unless that would mean waiting for a slow reader.</summary>
    public bool TryAppend(ReadOnlySpan<byte> payload, int typeId, out long sequence)
    {
        byte* record = Reserve(payload.Length, wait: false);
        if (record == null)
        {
            sequence = -1;
            return false;
        }

        payload.CopyTo(new Span<byte>(record + RecordLayout.HeaderLength, payload.Length));
        sequence = Publish(record, payload.Length, typeId);
        return true;
    }

    /// <summary>
    /// Reserves <paramref name="length"/> payload bytes in place. Write <see cref="LogClaim.Span"/>, then call
    /// <see cref="LogClaim.Commit()"/>; an uncommitted claim is discarded by the next append or claim.
    /// </summary>
    public LogClaim Claim(int length, int typeId = 0)
    {
        byte* record = Reserve(length, wait: true);
        *(int*)(record + RecordLayout.TypeIdOffset) = typeId;
        _claimOffset = _offset;
        return new LogClaim(this, new Span<byte>(record + RecordLayout.HeaderLength, length), _nextSequence);
    }

    /// <summary>
    /// Starts a record written through <see cref="System.Buffers.IBufferWriter{T}"/> (for serializers), or through
    /// <see cref="LogRecordWriter.AsStream"/>. Call <see cref="LogRecordWriter.Commit"/> to append it. The returned
    /// object is reused by the next call.
    /// </summary>
    public LogRecordWriter BeginRecord(int typeId = 0)
    {
        ThrowIfDisposed();
        _recordWriter ??= new LogRecordWriter(this);
        _recordWriter.Begin(typeId);
        return _recordWriter;
    }

    /// <summary>Releases the writer lease; any process may then claim the writer.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Heartbeat.Unregister(_heartbeat);
        OwnerBlock.Release(_log.WriterBlock, _owner);
        _log.Region.Release();
    }

    internal long CommitClaim(long sequence, int length)
    {
        if (_claimOffset < 0 || sequence != _nextSequence)
        {
            ThrowHelper.ThrowInvalidOperation("This claim was already committed or was discarded by a later append or claim.");
        }

        byte* record = _data + _claimOffset;
        _claimOffset = -1;
        return Publish(record, length, *(int*)(record + RecordLayout.TypeIdOffset));
    }

    /// <summary>Room for a record of <paramref name="payloadLength"/> at the write offset; rolls first if needed.</summary>
    internal byte* Reserve(int payloadLength, bool wait)
    {
        ThrowIfDisposed();
        if ((uint)payloadLength > (uint)(_segmentBytes - RecordLayout.HeaderLength))
        {
            ThrowTooLarge(payloadLength);
        }

        ThrowIfLeaseLost();
        _claimOffset = -1;
        if (_count == _segmentCapacity || RecordLayout.AlignedLength(payloadLength) > _segmentBytes - _offset)
        {
            if (!Roll(wait))
            {
                return null;
            }
        }

        return _data + _offset;
    }

    /// <summary>Moves a partly written record into a fresh segment (the buffer-writer path outgrew the current one).</summary>
    internal byte* RelocateInto(int writtenLength, int neededLength)
    {
        ThrowIfLeaseLost();
        byte* old = _data + _offset + RecordLayout.HeaderLength;
        var saved = new ReadOnlySpan<byte>(old, writtenLength).ToArray();
        if (!Roll(wait: true))
        {
            ThrowHelper.ThrowInvalidOperation("Could not roll to a new segment.");
        }

        Debug.Assert(RecordLayout.AlignedLength(neededLength) <= _segmentBytes - _offset, "an empty segment holds any record up to MaxPayloadLength");
        byte* record = _data + _offset;
        saved.CopyTo(new Span<byte>(record + RecordLayout.HeaderLength, writtenLength));
        return record;
    }

    internal int FreeInSegment => _segmentBytes - _offset - RecordLayout.HeaderLength;

    internal byte* CurrentRecord => _data + _offset;

    internal long Publish(byte* record, int payloadLength, int typeId)
    {
        *(int*)(record + RecordLayout.TypeIdOffset) = typeId;
        int next = _offset + RecordLayout.AlignedLength(payloadLength);
        if (next <= _segmentBytes - RecordLayout.HeaderLength)
        {
            // Keeps "the word after the last committed record is 0" true for recovery.
            *(int*)(_data + next) = 0;
        }

        _index[_count] = _offset;

        // Release: the commit of this record (payload, type id, index entry, next zero); read by Recover.
        Atomic.WriteRelease((int*)(record + RecordLayout.LengthOffset), RecordLayout.HeaderLength + payloadLength);
        _count++;

        // Release: publishes the record to readers; pairs with ReadAcquire in LogFile.ReadCount.
        Atomic.WriteRelease(_countAddress, _count);

        // Wakes readers sleeping for data, only if there are any (full fence + one load otherwise).
        _dataSignal.Notify();
        _offset = next;
        return _nextSequence++;
    }

    private bool Roll(bool wait)
    {
        long generation = _headGeneration + 1;
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

        byte* slot = _log.Slot(generation);

        // Full fence: readers validating the old generation see the change before any byte of the slot is overwritten.
        Interlocked.Exchange(ref *LogFile.GenerationOf(slot), SegmentLayout.ReusingGeneration);
        *LogFile.FirstSequenceOf(slot) = _nextSequence;
        *LogFile.CountOf(slot) = 0;
        *(int*)_log.DataOf(slot) = 0;

        // Release: the slot is initialised; pairs with readers' ReadAcquire of the slot generation.
        Atomic.WriteRelease(LogFile.GenerationOf(slot), generation);

        // Release: seals the old head (its count is final) and publishes the new one; pairs with ReadAcquire of HeadGeneration.
        Atomic.WriteRelease(_log.HeadGeneration, generation);
        Attach(generation, slot, 0, 0);
        return true;
    }

    /// <summary>Waits (or evicts) until no live reader pins <paramref name="generation"/>. False when it would have to wait and may not.</summary>
    private bool AwaitFree(long generation, bool wait)
    {
        var readers = _log.Readers;
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

        if (_log.Policy == SlowReaderPolicy.Evict)
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
        var space = _log.SpaceSignal;
        long now = Stopwatch.GetTimestamp();
        long deadline = now + (long)(_log.SlowReaderTimeout.TotalSeconds * Stopwatch.Frequency);
        long reapPeriod = ReapPeriodMs * Stopwatch.Frequency / 1000;
        long nextReap = now + reapPeriod;
        var idler = new Idler(_idle);
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
        byte* slot = _log.Slot(head);
        if (Atomic.ReadAcquire(LogFile.GenerationOf(slot)) != head)
        {
            ThrowHelper.ThrowCorrupt(_log.FilePath, $"the head segment slot does not hold generation {head}");
        }

        int count = _log.ReadCount(slot);
        byte* data = _log.DataOf(slot);
        int offset = 0;
        if (count > 0)
        {
            if (!_log.TryLocate(slot, count - 1, out byte* last, out int lastLength))
            {
                ThrowHelper.ThrowCorrupt(_log.FilePath, $"the last record of segment {head} has an invalid offset or length");
            }

            offset = (int)(last - data) + RecordLayout.AlignedLength(lastLength);
        }

        int* index = LogFile.IndexOf(slot);
        int recovered = count;
        while (recovered < _segmentCapacity && offset <= _segmentBytes - RecordLayout.HeaderLength)
        {
            int length = Atomic.ReadAcquire((int*)(data + offset));
            if (length < RecordLayout.HeaderLength || length > _segmentBytes - offset)
            {
                break;
            }

            index[recovered++] = offset;
            offset += RecordLayout.AlignedLength(length - RecordLayout.HeaderLength);
        }

        if (offset <= _segmentBytes - RecordLayout.HeaderLength)
        {
            *(int*)(data + offset) = 0;
        }

        if (recovered != count)
        {
            // Release: publishes records the dead writer committed but did not count.
            Atomic.WriteRelease(LogFile.CountOf(slot), recovered);
            _dataSignal.Notify();
        }

        _nextSequence = *LogFile.FirstSequenceOf(slot) + recovered;
        Attach(head, slot, recovered, offset);
    }

    private void Attach(long generation, byte* slot, int count, int offset)
    {
        _headGeneration = generation;
        _slot = slot;
        _data = _log.DataOf(slot);
        _index = LogFile.IndexOf(slot);
        _countAddress = LogFile.CountOf(slot);
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

    /// <summary>
    /// One load of a line that changes once a second (the heartbeat): a writer whose lease was taken over (only
    /// possible through the heartbeat fallback) stops before it writes anything.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfLeaseLost()
    {
        if (!OwnerBlock.IsOwnedBy(_log.WriterBlock, _owner))
        {
            ThrowLeaseLost();
        }
    }

    private void ThrowLeaseLost()
        => throw new SharedLogException(
            $"This process no longer holds the writer lease of '{_log.FilePath}' (another process took it over after its heartbeat stalled). Dispose this writer.");

    private void ThrowTooLarge(int payloadLength)
        => ThrowHelper.ThrowArgumentOutOfRange("payload",
            $"A {payloadLength}-byte payload does not fit in a segment; the largest is {MaxPayloadLength} bytes. Create the log with a larger SegmentBytes.");
}
