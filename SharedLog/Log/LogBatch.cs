using System.Runtime.CompilerServices;
using SharedLog.Layout;
using SharedLog.Log;

namespace SharedLog;

/// <summary>
/// Records read at once by <see cref="LogReader.TryReadBatch(int, out LogBatch)"/> (or its lingering overload), in place: <c>foreach (LogRecord record in batch)</c>.
/// Valid until the next call on the reader; call <see cref="LogReader.Validate"/> after processing to learn whether the
/// batch was intact while it was held (if not, all its records count in <see cref="LogReader.LostCount"/>).
/// </summary>
public readonly ref struct LogBatch
{
    private readonly Segment _segment;
    private readonly int _offset;

    internal LogBatch(Segment segment, int offset, int count, long firstSequence)
    {
        _segment = segment;
        _offset = offset;
        Count = count;
        FirstSequence = firstSequence;
    }

    /// <summary>Records in the batch.</summary>
    public int Count { get; }

    /// <summary>The sequence number of the batch's first record; the others follow without gaps.</summary>
    public long FirstSequence { get; }

    /// <summary>Iterates the batch's records.</summary>
    public Enumerator GetEnumerator() => new(_segment, _offset, Count, FirstSequence);

    /// <summary>Walks the records by their length words, checking each against the segment.</summary>
    public ref struct Enumerator
    {
        private readonly Segment _segment;
        private readonly int _count;
        private readonly long _firstSequence;
        private int _offset;
        private int _index;
        private LogRecord _current;

        internal Enumerator(Segment segment, int offset, int count, long firstSequence)
        {
            _segment = segment;
            _offset = offset;
            _count = count;
            _firstSequence = firstSequence;
        }

        /// <summary>The current record; its payload is in place.</summary>
        public readonly LogRecord Current => _current;

        /// <summary>
        /// Advances to the next record. Stops early if the bytes stopped describing records (the writer reused the
        /// segment under <see cref="SlowReaderPolicy.Evict"/>): <see cref="LogReader.Validate"/> then reports the loss.
        /// </summary>
        /// <remarks>
        /// Inlined into the caller's <c>foreach</c>, so the walk's offset and index stay in registers: left to the JIT's
        /// own budget it was a call per record, and a batch cost about 1.5x as much per record in one thread.
        /// </remarks>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool MoveNext()
        {
            if (_index >= _count || !_segment.HasRoomAt(_offset))
            {
                return false;
            }

            // The lengths were acquired when the batch was read; bounds are re-checked because a reused segment may
            // hold anything by now.
            int length = _segment.ReadLength(_offset);
            if (!_segment.IsRecordLength(_offset, length))
            {
                _index = _count;
                return false;
            }

            _current = _segment.RecordAt(_offset, length, _firstSequence + _index);
            _offset += RecordLayout.AlignedLength(length - RecordLayout.HeaderLength);
            _index++;
            return true;
        }
    }
}
