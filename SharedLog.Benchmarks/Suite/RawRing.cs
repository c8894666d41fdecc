using System.Runtime.CompilerServices;

namespace SharedLog.Benchmarks.Suite;

/// <summary>
/// The ceiling the library is measured against: the least a shared-memory ring can do. One producer, up to
/// <see cref="MaxReaders"/> consumers (one is the classic SPSC ring; with more, the producer waits for the slowest),
/// 64-bit positions that never wrap, a power-of-two data area, no headers, no leases, no reclamation protocol.
/// </summary>
/// <remarks><code>
///   offset            field              writer        ordering
///   0                 Head (position)    producer      release after the bytes it covers; consumers acquire
///   128 + 128i        Tail[i]            consumer i    release after consumer i is done with the bytes; producer acquires
///   4096              data, Capacity bytes (a power of two); byte at position p lives at 4096 + (p &amp; (Capacity - 1))
/// </code>
/// Each hot word has its own 128-byte line. The producer caches the slowest tail and re-reads the tails only when
/// the ring looks full; a consumer caches the head and re-reads it only when it has consumed everything it saw.
/// Fixed-size messages (a power of two no larger than the capacity) never straddle the end of the data area; bulk
/// writes are copied in up to two pieces. Waiting spins (with a pause), then yields the core after
/// <see cref="SpinsBeforeYield"/> tries: no futex, so it costs the same whatever the library's strategy.
/// </remarks>
public sealed class RawRing : IDisposable
{
    /// <summary>Most consumers.</summary>
    public const int MaxReaders = 8;

    /// <summary>Tries with a spin-wait pause before each further try yields the core.</summary>
    public const int SpinsBeforeYield = 200;

    private const int HeadOffset = 0;
    private const int TailOffset = 128;
    private const int DataOffset = 4096;

    private readonly SharedMapping _map;
    private readonly int _readers;
    private readonly long _mask;

    private RawRing(SharedMapping map, int capacity, int readers)
    {
        _map = map;
        Capacity = capacity;
        _readers = readers;
        _mask = capacity - 1;
    }

    /// <summary>Data bytes.</summary>
    public int Capacity { get; }

    /// <summary>Creates a ring file for <paramref name="readers"/> consumers.</summary>
    public static RawRing Create(string path, int capacity, int readers)
    {
        if (capacity <= 0 || (capacity & (capacity - 1)) != 0 || readers < 1 || readers > MaxReaders)
        {
            throw new ArgumentException($"capacity {capacity} must be a power of two and readers {readers} between 1 and {MaxReaders}");
        }

        return new RawRing(SharedMapping.Create(path, DataOffset + (long)capacity), capacity, readers);
    }

    /// <summary>Opens a ring file created for <paramref name="readers"/> consumers.</summary>
    public static RawRing Open(string path, int readers)
    {
        var map = SharedMapping.Open(path);
        return new RawRing(map, (int)(map.Length - DataOffset), readers);
    }

    /// <summary>The producer's side.</summary>
    public Producer CreateProducer() => new(this);

    /// <summary>Consumer <paramref name="index"/>'s side.</summary>
    public Consumer CreateConsumer(int index) => new(this, index);

    public void Dispose() => _map.Dispose();

    private ref long Head => ref _map.Int64(HeadOffset);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ref long Tail(int index) => ref _map.Int64(TailOffset + 128L * index);

    private Span<byte> Data => _map.Bytes(DataOffset, Capacity);

    /// <summary>Spins with a pause, then yields; <paramref name="tries"/> counts the tries of one wait.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Pause(ref int tries)
    {
        if (++tries < SpinsBeforeYield)
        {
            Thread.SpinWait(1);
        }
        else
        {
            Thread.Yield();
        }
    }

    /// <summary>The single producer.</summary>
    public sealed class Producer
    {
        private readonly RawRing _ring;
        private long _head;
        private long _slowestTail;

        internal Producer(RawRing ring) => _ring = ring;

        /// <summary>Bytes written so far.</summary>
        public long Position => _head;

        /// <summary>Copies one message (its length a power of two, at most the capacity) in and publishes it, waiting for space while needed.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void WriteMessage(ReadOnlySpan<byte> message, bool busySpin = false)
        {
            if (_head + message.Length - _slowestTail > _ring.Capacity)
            {
                AwaitSpace(message.Length, busySpin);
            }

            message.CopyTo(_ring.Data.Slice((int)(_head & _ring._mask), message.Length));
            _head += message.Length;

            // Release: publishes the message; pairs with the acquire of Head in Consumer.
            Volatile.Write(ref _ring.Head, _head);
        }

        /// <summary>Copies as much of <paramref name="data"/> as fits now (in up to two pieces) and publishes it; returns the bytes copied.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public int Write(ReadOnlySpan<byte> data)
        {
            long free = _ring.Capacity - (_head - _slowestTail);
            if (free < data.Length)
            {
                _slowestTail = SlowestTail();
                free = _ring.Capacity - (_head - _slowestTail);
            }

            int length = (int)Math.Min(free, data.Length);
            if (length == 0)
            {
                return 0;
            }

            var ring = _ring.Data;
            int index = (int)(_head & _ring._mask);
            int first = Math.Min(length, _ring.Capacity - index);
            data[..first].CopyTo(ring[index..]);
            data[first..length].CopyTo(ring);
            _head += length;
            Volatile.Write(ref _ring.Head, _head);
            return length;
        }

        /// <summary>Writes all of <paramref name="data"/>, waiting for space while needed.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void WriteAll(ReadOnlySpan<byte> data)
        {
            int tries = 0;
            while (!data.IsEmpty)
            {
                int written = Write(data);
                if (written == 0)
                {
                    Pause(ref tries);
                    continue;
                }

                tries = 0;
                data = data[written..];
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private void AwaitSpace(int length, bool busySpin)
        {
            int tries = 0;
            while (_head + length - (_slowestTail = SlowestTail()) > _ring.Capacity)
            {
                if (busySpin)
                {
                    Thread.SpinWait(1);
                }
                else
                {
                    Pause(ref tries);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private long SlowestTail()
        {
            long slowest = long.MaxValue;
            for (int i = 0; i < _ring._readers; i++)
            {
                slowest = Math.Min(slowest, Volatile.Read(ref _ring.Tail(i)));
            }

            return slowest;
        }
    }

    /// <summary>One consumer, at its own position.</summary>
    public sealed class Consumer
    {
        private readonly RawRing _ring;
        private readonly int _index;
        private long _position;
        private long _head;

        internal Consumer(RawRing ring, int index)
        {
            _ring = ring;
            _index = index;
        }

        /// <summary>Bytes consumed so far.</summary>
        public long Position => _position;

        /// <summary>
        /// Bytes published and not yet consumed, as one contiguous span (the part before the end of the data area when
        /// they wrap), at most <paramref name="maxLength"/>; empty when there is nothing new.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ReadOnlySpan<byte> Peek(int maxLength)
        {
            if (_position == _head)
            {
                // Acquire: pairs with the release of Head in Producer.
                _head = Volatile.Read(ref _ring.Head);
                if (_position == _head)
                {
                    return default;
                }
            }

            int index = (int)(_position & _ring._mask);
            int length = (int)Math.Min(Math.Min(_head - _position, _ring.Capacity - index), maxLength);
            return _ring.Data.Slice(index, length);
        }

        /// <summary>Marks <paramref name="length"/> bytes consumed and hands their space back to the producer.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Advance(int length)
        {
            _position += length;

            // Release: the consumer is done with the bytes; pairs with the acquire in Producer.SlowestTail.
            Volatile.Write(ref _ring.Tail(_index), _position);
        }
    }
}
