using System.Runtime.CompilerServices;
using SharedLog.Layout;
using SharedLog.Log;
using SharedLog.Memory;
using SharedLog.Platform;
using SharedLog.Readers;

namespace SharedLog;

/// <summary>
/// A stable view of the retained records at one instant. It pins its segments in a reader slot until
/// <see cref="Refresh"/> or <see cref="Dispose"/>, so under <see cref="SlowReaderPolicy.Block"/> nothing it shows is
/// overwritten. Not thread-safe.
/// </summary>
/// <remarks>
/// Design: the snapshot pins the oldest retained generation with the Dekker handshake (store pin, full fence, re-read
/// Oldest) and records the head generation and its record count at that instant. Every step of enumeration and every
/// <see cref="TryGet"/> validates after reading: a load fence, then the slot's generation and the reader slot's
/// eviction flag are re-checked. Under <see cref="SlowReaderPolicy.Evict"/> a reused segment turns into
/// <see cref="ReaderEvictedException"/> until the snapshot is refreshed.
/// </remarks>
public sealed unsafe class LogSnapshot : IDisposable
{
    private readonly LogFile _log;
    private int _slotIndex;
    private long _slotOwner;
    private object _heartbeat;
    private byte* _readerSlot;
    private long _firstGeneration;
    private long _headGeneration;
    private int _headCount;
    private bool _evicted;
    private bool _disposed;

    internal LogSnapshot(LogFile log)
    {
        _log = log;
        log.Region.AddRef();
        try
        {
            _slotIndex = log.Readers.Claim(ReaderSlotLayout.RoleSnapshot, out _slotOwner);
        }
        catch
        {
            log.Region.Release();
            throw;
        }

        _readerSlot = log.Readers.Slot(_slotIndex);
        _heartbeat = Heartbeat.Register(log.Region, log.Readers.SlotOffset(_slotIndex), _slotOwner);
        Refresh();
    }

    /// <summary>The sequence number of the oldest record in the snapshot.</summary>
    public long FirstSequence { get; private set; }

    /// <summary>One past the newest record in the snapshot: the sequence the writer was about to assign.</summary>
    public long NextSequence { get; private set; }

    /// <summary>How many records the snapshot holds.</summary>
    public long Count => NextSequence - FirstSequence;

    /// <summary>The snapshot's segments, oldest first, one <see cref="LogChunk"/> per non-empty segment.</summary>
    public ChunkEnumerable Chunks
    {
        get
        {
            ThrowIfUnusable();
            return new ChunkEnumerable(this);
        }
    }

    /// <summary>Moves the snapshot to what the log retains now and clears an eviction.</summary>
    public void Refresh()
    {
        ThrowIfDisposed();
        if (!OwnerBlock.IsOwnedBy(_readerSlot, _slotOwner))
        {
            // Our slot was reaped while we stalled (only possible where the OS cannot tell that we live, see
            // LogReader.Reregister); it may belong to someone else now, so never write to it again.
            Heartbeat.Unregister(_heartbeat);
            _slotIndex = _log.Readers.Claim(ReaderSlotLayout.RoleSnapshot, out _slotOwner);
            _readerSlot = _log.Readers.Slot(_slotIndex);
            _heartbeat = Heartbeat.Register(_log.Region, _log.Readers.SlotOffset(_slotIndex), _slotOwner);
        }

        ReaderTable.Activate(_readerSlot);
        for (int attempt = 0; attempt < 1024; attempt++)
        {
            long first = ReaderTable.PinOldest(_readerSlot, _log.OldestGeneration, 0);

            // The pin moved forward (or was set): a writer blocked for space may proceed; wakes it only if it sleeps.
            _log.SpaceSignal.Notify();

            // Acquire: pairs with the release of HeadGeneration in LogWriter.Roll.
            long head = Atomic.ReadAcquire(_log.HeadGeneration);
            if (head < first || head - first >= _log.SlotCount)
            {
                _log.ThrowIfWindowUnchanged(head, first, $"the window of generations [{first}, {head}] is not valid for {_log.SlotCount} slots");
                continue;
            }

            byte* headSlot = _log.Slot(head);
            byte* firstSlot = _log.Slot(first);
            int headCount = _log.ReadCount(headSlot);
            long headFirst = Atomic.ReadAcquire(LogFile.FirstSequenceOf(headSlot));
            long firstSequence = Atomic.ReadAcquire(LogFile.FirstSequenceOf(firstSlot));
            Atomic.LoadFence();
            if (Atomic.ReadAcquire(LogFile.GenerationOf(headSlot)) != head || Atomic.ReadAcquire(LogFile.GenerationOf(firstSlot)) != first)
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

            _firstGeneration = first;
            _headGeneration = head;
            _headCount = headCount;
            FirstSequence = firstSequence;
            NextSequence = headFirst + headCount;
            _evicted = false;
            return;
        }

        throw new SharedLogException($"Could not take a stable snapshot of '{_log.FilePath}': the writer is reusing segments faster than they can be pinned.");
    }

    /// <summary>Iterates the records oldest first.</summary>
    public Enumerator GetEnumerator()
    {
        ThrowIfUnusable();
        return new Enumerator(this, _firstGeneration, _headGeneration, FirstSequence);
    }

    /// <summary>Finds a record by sequence number in O(log segments). False when it is outside the snapshot.</summary>
    /// <exception cref="ReaderEvictedException">The writer reused the record's segment (under <see cref="SlowReaderPolicy.Evict"/>).</exception>
    public bool TryGet(long sequence, out LogRecord record)
    {
        ThrowIfUnusable();
        record = default;
        if (sequence < FirstSequence || sequence >= NextSequence)
        {
            return false;
        }

        long low = _firstGeneration;
        long high = _headGeneration;
        while (low < high)
        {
            long middle = low + ((high - low + 1) / 2);
            if (Atomic.ReadAcquire(LogFile.FirstSequenceOf(_log.Slot(middle))) <= sequence)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        byte* slot = _log.Slot(low);
        long index = sequence - Atomic.ReadAcquire(LogFile.FirstSequenceOf(slot));
        int count = CountOf(low, slot);
        byte* bytes = null;
        int length = 0;
        if (index < 0 || index >= count || !_log.TryLocate(slot, (int)index, out bytes, out length))
        {
            Check(slot, low);
            ThrowHelper.ThrowCorrupt(_log.FilePath, $"sequence {sequence} is not where segment {low} says it is");
        }

        record = new LogRecord(sequence, *(int*)(bytes + RecordLayout.TypeIdOffset), new ReadOnlySpan<byte>(bytes + RecordLayout.HeaderLength, length));
        Check(slot, low);
        return true;
    }

    /// <summary>Gives the reader slot back; the snapshot's segments are no longer pinned.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Heartbeat.Unregister(_heartbeat);
        _log.Readers.Release(_slotIndex, _slotOwner);
        _log.SpaceSignal.Notify();
        _log.Region.Release();
    }

    internal LogFile Log => _log;

    /// <summary>The record count of a segment as the snapshot sees it (the head's count is frozen at refresh).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int CountOf(long generation, byte* slot) => generation == _headGeneration ? _headCount : _log.ReadCount(slot);

    /// <summary>Validation after reading: throws <see cref="ReaderEvictedException"/> if the slot no longer holds <paramref name="generation"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Check(byte* slot, long generation)
    {
        Atomic.LoadFence();
        // A reaped slot (see Refresh) pins nothing any more: that is an eviction too.
        if (Atomic.ReadAcquire(LogFile.GenerationOf(slot)) != generation || ReaderTable.IsEvicted(_readerSlot)
            || !OwnerBlock.IsOwnedBy(_readerSlot, _slotOwner))
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

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowDisposed(nameof(LogSnapshot));
        }
    }

    private void ThrowIfUnusable()
    {
        ThrowIfDisposed();
        if (_evicted)
        {
            ThrowEvicted();
        }
    }

    /// <summary>Enumerates records of a range of segments, validating after each read.</summary>
    public ref struct Enumerator
    {
        private readonly LogSnapshot _snapshot;
        private readonly long _lastGeneration;
        private long _generation;
        private byte* _slot;
        private int _index;
        private int _count;
        private long _sequence;
        private long _expectedSequence;
        private LogRecord _current;

        internal Enumerator(LogSnapshot snapshot, long firstGeneration, long lastGeneration, long firstSequence)
        {
            _snapshot = snapshot;
            _lastGeneration = lastGeneration;
            _generation = firstGeneration - 1;
            _index = 0;
            _count = 0;
            _expectedSequence = firstSequence;
        }

        /// <summary>The current record; its payload is valid until the next MoveNext.</summary>
        public readonly LogRecord Current => _current;

        /// <summary>Advances to the next record; throws <see cref="ReaderEvictedException"/> if the snapshot's data was reused.</summary>
        public bool MoveNext()
        {
            var log = _snapshot.Log;
            if (_slot != null)
            {
                _snapshot.Check(_slot, _generation);
            }

            while (_index >= _count)
            {
                if (_generation >= _lastGeneration)
                {
                    _current = default;
                    return false;
                }

                _generation++;
                _slot = log.Slot(_generation);
                _count = _snapshot.CountOf(_generation, _slot);
                _sequence = Atomic.ReadAcquire(LogFile.FirstSequenceOf(_slot));
                _index = 0;
                _snapshot.Check(_slot, _generation);
                if (_sequence != _expectedSequence)
                {
                    // Sequences stay contiguous across segments, so a corrupt first sequence can never show up as a
                    // gap or a duplicate.
                    ThrowHelper.ThrowCorrupt(log.FilePath, $"segment {_generation} starts at sequence {_sequence}, expected {_expectedSequence}");
                }

                _expectedSequence = _sequence + _count;
            }

            if (!log.TryLocate(_slot, _index, out byte* bytes, out int length))
            {
                _snapshot.Check(_slot, _generation);
                ThrowHelper.ThrowCorrupt(log.FilePath, $"record {_index} of segment {_generation} has an invalid offset or length");
            }

            _current = new LogRecord(_sequence + _index, *(int*)(bytes + RecordLayout.TypeIdOffset), new ReadOnlySpan<byte>(bytes + RecordLayout.HeaderLength, length));
            _index++;
            _snapshot.Check(_slot, _generation);
            return true;
        }
    }

    /// <summary>The snapshot's segments as chunks; use with <c>foreach</c>.</summary>
    public readonly ref struct ChunkEnumerable
    {
        private readonly LogSnapshot _snapshot;

        internal ChunkEnumerable(LogSnapshot snapshot) => _snapshot = snapshot;

        /// <summary>Returns the chunk enumerator.</summary>
        public ChunkEnumerator GetEnumerator() => new(_snapshot);
    }

    /// <summary>Enumerates the non-empty segments of a snapshot.</summary>
    public ref struct ChunkEnumerator
    {
        private readonly LogSnapshot _snapshot;
        private long _generation;
        private long _expectedSequence;
        private LogChunk _current;

        internal ChunkEnumerator(LogSnapshot snapshot)
        {
            _snapshot = snapshot;
            _generation = snapshot._firstGeneration - 1;
            _expectedSequence = snapshot.FirstSequence;
        }

        /// <summary>The current chunk.</summary>
        public readonly LogChunk Current => _current;

        /// <summary>Advances to the next non-empty segment.</summary>
        public bool MoveNext()
        {
            var log = _snapshot.Log;
            while (_generation < _snapshot._headGeneration)
            {
                _generation++;
                byte* slot = log.Slot(_generation);
                int count = _snapshot.CountOf(_generation, slot);
                long first = Atomic.ReadAcquire(LogFile.FirstSequenceOf(slot));
                _snapshot.Check(slot, _generation);
                if (first != _expectedSequence)
                {
                    ThrowHelper.ThrowCorrupt(log.FilePath, $"segment {_generation} starts at sequence {first}, expected {_expectedSequence}");
                }

                _expectedSequence = first + count;
                if (count > 0)
                {
                    _current = new LogChunk(_snapshot, _generation, first, count);
                    return true;
                }
            }

            _current = default;
            return false;
        }
    }
}
