using SharedLog.Log;

namespace SharedLog;

/// <summary>
/// A stable view of the retained records at one instant. It pins its segments in a reader slot until
/// <see cref="Refresh"/> or <see cref="Dispose"/>, so under <see cref="SlowReaderPolicy.Block"/> nothing it shows is
/// overwritten. Not thread-safe.
/// </summary>
/// <remarks>
/// Every step of enumeration and every <see cref="TryGet"/> validates after reading. Under
/// <see cref="SlowReaderPolicy.Evict"/> a reused segment turns into <see cref="ReaderEvictedException"/> until the
/// snapshot is refreshed.
/// </remarks>
public sealed class LogSnapshot : IDisposable
{
    private readonly LogView _core;

    internal LogSnapshot(LogView core) => _core = core;

    /// <summary>The sequence number of the oldest record in the snapshot.</summary>
    public long FirstSequence
    {
        get
        {
            _core.ThrowIfDisposed();
            return _core.FirstSequence;
        }
    }

    /// <summary>One past the newest record in the snapshot: the sequence the writer was about to assign.</summary>
    public long NextSequence
    {
        get
        {
            _core.ThrowIfDisposed();
            return _core.NextSequence;
        }
    }

    /// <summary>How many records the snapshot holds.</summary>
    public long Count => NextSequence - FirstSequence;

    /// <summary>The snapshot's segments, oldest first, one <see cref="LogChunk"/> per non-empty segment.</summary>
    public ChunkEnumerable Chunks
    {
        get
        {
            _core.ThrowIfUnusable();
            return new ChunkEnumerable(_core);
        }
    }

    /// <summary>Moves the snapshot to what the log retains now and clears an eviction.</summary>
    public void Refresh() => _core.Refresh();

    /// <summary>Iterates the records oldest first.</summary>
    public Enumerator GetEnumerator()
    {
        _core.ThrowIfUnusable();
        return new Enumerator(_core, _core.FirstGeneration, _core.HeadGeneration, _core.FirstSequence);
    }

    /// <summary>Finds a record by sequence number in O(log segments). False when it is outside the snapshot.</summary>
    /// <exception cref="ReaderEvictedException">The writer reused the record's segment (under <see cref="SlowReaderPolicy.Evict"/>).</exception>
    public bool TryGet(long sequence, out LogRecord record) => _core.TryGet(sequence, out record);

    /// <summary>
    /// A lease on record <paramref name="sequence"/> that keeps its segment alive after this snapshot is refreshed or
    /// disposed, until the lease (and its clones) are disposed. The payload stays in place.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The sequence is outside the snapshot.</exception>
    /// <exception cref="ReaderEvictedException">The snapshot was evicted (under <see cref="SlowReaderPolicy.Evict"/>).</exception>
    public RecordLease Lease(long sequence) => _core.Lease(sequence);

    /// <summary>Gives the reader slot back; the snapshot's segments are no longer pinned.</summary>
    public void Dispose() => _core.Dispose();

    /// <summary>Enumerates records of a range of segments, validating after each read.</summary>
    public ref struct Enumerator
    {
        private readonly LogView _view;
        private readonly long _lastGeneration;
        private long _generation;
        private Segment _segment;
        private int _index;
        private int _count;
        private long _sequence;
        private long _expectedSequence;
        private LogRecord _current;

        internal Enumerator(LogView view, long firstGeneration, long lastGeneration, long firstSequence)
        {
            _view = view;
            _lastGeneration = lastGeneration;
            _generation = firstGeneration - 1;
            _expectedSequence = firstSequence;
        }

        /// <summary>The current record; its payload is valid until the next MoveNext.</summary>
        public readonly LogRecord Current => _current;

        /// <summary>Advances to the next record; throws <see cref="ReaderEvictedException"/> if the snapshot's data was reused.</summary>
        public bool MoveNext()
        {
            _view.ThrowIfDisposed();
            var log = _view.Log;
            if (!_segment.IsNull)
            {
                _view.Check(_segment, _generation);
            }

            while (_index >= _count)
            {
                if (_generation >= _lastGeneration)
                {
                    _current = default;
                    return false;
                }

                _generation++;
                _segment = log.SegmentAt(_generation);
                _count = _view.CountOf(_generation, _segment);
                _sequence = _segment.ReadFirstSequence();
                _index = 0;
                _view.Check(_segment, _generation);
                if (_sequence != _expectedSequence)
                {
                    // Sequences stay contiguous across segments, so a corrupt first sequence can never show up as a
                    // gap or a duplicate.
                    ThrowHelper.ThrowCorrupt(log.FilePath, $"segment {_generation} starts at sequence {_sequence}, expected {_expectedSequence}");
                }

                _expectedSequence = _sequence + _count;
            }

            if (!_segment.TryRead(_index, _sequence + _index, out _current))
            {
                _view.Check(_segment, _generation);
                ThrowHelper.ThrowCorrupt(log.FilePath, $"record {_index} of segment {_generation} has an invalid offset or length");
            }

            _index++;
            _view.Check(_segment, _generation);
            return true;
        }
    }

    /// <summary>The snapshot's segments as chunks; use with <c>foreach</c>.</summary>
    public readonly ref struct ChunkEnumerable
    {
        private readonly LogView _view;

        internal ChunkEnumerable(LogView view) => _view = view;

        /// <summary>Returns the chunk enumerator.</summary>
        public ChunkEnumerator GetEnumerator() => new(_view);
    }

    /// <summary>Enumerates the non-empty segments of a snapshot.</summary>
    public ref struct ChunkEnumerator
    {
        private readonly LogView _view;
        private long _generation;
        private long _expectedSequence;
        private LogChunk _current;

        internal ChunkEnumerator(LogView view)
        {
            _view = view;
            _generation = view.FirstGeneration - 1;
            _expectedSequence = view.FirstSequence;
        }

        /// <summary>The current chunk.</summary>
        public readonly LogChunk Current => _current;

        /// <summary>Advances to the next non-empty segment.</summary>
        public bool MoveNext()
        {
            _view.ThrowIfUnusable();
            var log = _view.Log;
            while (_generation < _view.HeadGeneration)
            {
                _generation++;
                var segment = log.SegmentAt(_generation);
                int count = _view.CountOf(_generation, segment);
                long first = segment.ReadFirstSequence();
                _view.Check(segment, _generation);
                if (first != _expectedSequence)
                {
                    ThrowHelper.ThrowCorrupt(log.FilePath, $"segment {_generation} starts at sequence {first}, expected {_expectedSequence}");
                }

                _expectedSequence = first + count;
                if (count > 0)
                {
                    _current = new LogChunk(_view, _generation, first, count);
                    return true;
                }
            }

            _current = default;
            return false;
        }
    }
}
