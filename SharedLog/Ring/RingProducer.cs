using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SharedLog.Layout;
using SharedLog.Leases;
using SharedLog.Memory;
using SharedLog.Platform;
using SharedLog.Waiting;

namespace SharedLog.Ring;

/// <summary>
/// The core of a <see cref="RingWriter"/>: the single writer of a <see cref="ByteRing"/>, holding the writer lease
/// until disposed. Every write path checks the lease before it touches the file.
/// </summary>
/// <remarks>
/// <para>
/// Design: the writer alone moves Writer Position, Tail, Tail Intent and Completed Position. Writing <c>n</c> bytes
/// at position <c>w</c> overwrites the bytes at <c>[w - Capacity, w + n - Capacity)</c>, so before it touches the
/// data the writer raises Tail to at least <c>w + n - Capacity</c>; it raises it to the next multiple of
/// <see cref="RingLayout.TailChunk"/> (capped by <c>w</c> and the slowest pin), so small writes raise it once per
/// chunk:
/// </para>
/// <list type="number">
/// <item>Under <see cref="SlowReaderPolicy.Block"/> it first checks the new tail against the cached slowest pin (no
/// table scan while the cache says there is room; a rescan when it does not, or when the Join Sequence moved).</item>
/// <item>It stores Tail Intent, full fence, and re-reads Join Sequence: a reader that pinned a position the writer
/// has not scanned either is seen now (rescan) or sees the intent and pins above it (the reader's half of the
/// Dekker handshake is in <see cref="RingReader"/>).</item>
/// <item>It stores Tail, then a store fence, so no byte of the data is overwritten before a reader validating after
/// its copy can see the new tail (seqlock: the writer's stores in order against the reader's loads in order).</item>
/// <item>It copies the bytes, then publishes them with one release store of Writer Position, and notifies the data
/// signal (a load; a system call only when a reader sleeps).</item>
/// </list>
/// <para>
/// A writer killed at any step leaves the invariants of <see cref="RingLayout"/> intact: at worst Tail was raised
/// over bytes that were never published. The next writer continues at Writer Position.
/// </para>
/// <para>
/// <see cref="Dispose"/> releases the lease but does not end the stream, so another process can claim the writer
/// and continue; call <see cref="Complete"/> to end it. The adaptors differ on purpose: disposing the
/// <see cref="AsStream"/> stream or completing the <see cref="AsPipeWriter"/> pipe writer completes the stream,
/// because that is what those APIs mean to their callers.
/// </para>
/// </remarks>
internal sealed unsafe partial class RingProducer : ISignalCondition, IDisposable
{
    /// <summary>The default most a single <see cref="ReadFrom"/> call reserves: the default pipe buffer on Linux.</summary>
    public const int DefaultReadFromLength = 64 * 1024;

    private const long ReapDelayMs = 10;
    private const long ReapPeriodMs = 100;

    private readonly RingFile _ring;
    private readonly WriterLease _lease;
    private readonly int _capacity;
    private readonly bool _block;
    private readonly int _tailChunk;
    private readonly MappedMemoryManager _memory;
    private readonly long* _writerPosition;
    private readonly Signal _dataSignal;
    private IdleStrategy _idle = IdleStrategy.Default;
    private AsyncWaiter? _asyncWaiter;
    private long _position;
    private long _tail;
    private long _intent;
    private int _reserved;
    private long _minPin = ReaderSlotLayout.NoPin;
    private long _seenJoins = long.MinValue;
    private long _waitDeadline;
    private long _nextReap;
    private bool _completed;
    private bool _disposed;
    private WaitGate _gate;

    public RingProducer(RingFile ring, WriterLease lease)
    {
        _ring = ring;
        _lease = lease;
        _capacity = ring.Capacity;
        _block = ring.Policy == SlowReaderPolicy.Block;
        _tailChunk = RingLayout.TailChunk(_capacity);
        try
        {
            // Resume where the previous writer (if any) published; whatever it reserved beyond is simply overwritten.
            ring.ValidatePositions();
            _position = Atomic.ReadAcquire(ring.WriterPosition);
            _tail = Atomic.ReadAcquire(ring.TailPosition);
            _intent = Atomic.ReadAcquire(ring.TailIntent);
            _completed = Atomic.ReadAcquire(ring.CompletedPosition) != RingLayout.NotCompleted;
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        _memory = new MappedMemoryManager(ring.Data, ring.Capacity);

        // Held directly, so a write's publication is two fields away, not two calls (the write's inlining budget is small).
        _writerPosition = ring.WriterPosition;
        _dataSignal = ring.DataSignal;
    }

    /// <summary>The position the next byte is written at: the number of bytes ever written to the ring.</summary>
    public long Position
    {
        get
        {
            ThrowIfDisposed();
            return _position;
        }
    }

    /// <summary>Data bytes in the ring.</summary>
    public int Capacity => _capacity;

    /// <summary>Whether the stream was completed (by this writer or an earlier one).</summary>
    public bool IsCompleted => _completed;

    /// <summary>
    /// How the writer's blocking waits for space idle under <see cref="SlowReaderPolicy.Block"/>
    /// (<see cref="WaitForSpace(TimeSpan)"/>, the Stream, <see cref="ReadFrom"/>). Default
    /// <see cref="IdleStrategy.Blocking"/>. Async waits never spin: they sleep on the handle's dispatcher thread.
    /// </summary>
    public IdleStrategy IdleStrategy
    {
        get => _idle;
        set => _idle = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// Writes as much of <paramref name="data"/> as fits now, without waiting, and returns how many bytes that was.
    /// With no live reader (or under <see cref="SlowReaderPolicy.Evict"/>) everything is written, overwriting the
    /// oldest bytes.
    /// </summary>
    /// <exception cref="InvalidOperationException">The stream was completed.</exception>
    /// <remarks>
    /// Not inlined into <see cref="RingWriter.Write"/>: the JIT's inlining budget follows the size of the method it
    /// compiles, and inside the one-line public forwarder the budget ran out before the copy and the notify were inlined.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public int Write(ReadOnlySpan<byte> data)
    {
        ThrowIfUnusable();
        int written = 0;
        while (written < data.Length)
        {
            int length = Reserve(data.Length - written);
            if (length == 0)
            {
                break;
            }

            _ring.CopyIn(_position, data.Slice(written, length));
            Publish(length);
            written += length;
        }

        return written;
    }

    /// <summary>Writes all of <paramref name="data"/>, waiting for slow readers as the policy says.</summary>
    /// <exception cref="OperationCanceledException">Cancelled; the bytes written before stay written (see <see cref="Position"/>).</exception>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        int written = Write(data.Span);
        return written == data.Length ? ValueTask.CompletedTask : WriteSlowAsync(data[written..], cancellationToken);
    }

    /// <summary>
    /// Hands out all the free space as up to two spans (the second starts at the beginning of the data) and returns
    /// its total length. Write into them, then call <see cref="Advance"/>.
    /// </summary>
    /// <remarks>
    /// Free space handed out counts as overwritten at once (readers can no longer seek to the bytes it held), so with
    /// no live reader this gives up the whole history; use <see cref="GetWriteSpans(int, out Span{byte}, out Span{byte})"/>
    /// to reserve only what is needed.
    /// </remarks>
    public int GetWriteSpans(out Span<byte> first, out Span<byte> second) => GetWriteSpans(int.MaxValue, out first, out second);

    /// <summary>Hands out at most <paramref name="maxLength"/> bytes of free space as up to two spans; returns their total length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetWriteSpans(int maxLength, out Span<byte> first, out Span<byte> second)
    {
        int length = ReserveForCaller(maxLength, out int index, out int firstLength);
        first = new Span<byte>(_ring.Data + index, firstLength);
        second = new Span<byte>(_ring.Data, length - firstLength);
        return length;
    }

    /// <summary>
    /// Like <see cref="GetWriteSpans(int, out Span{byte}, out Span{byte})"/>, as <see cref="Memory{T}"/> for APIs such
    /// as <c>RandomAccess.Read(handle, IReadOnlyList&lt;Memory&lt;byte&gt;&gt;, offset)</c>. Valid until the next call
    /// on this writer.
    /// </summary>
    public int GetWriteMemory(out Memory<byte> first, out Memory<byte> second, int maxLength = int.MaxValue)
    {
        int length = ReserveForCaller(maxLength, out int index, out int firstLength);
        first = _memory.Memory.Slice(index, firstLength);
        second = _memory.Memory[..(length - firstLength)];
        return length;
    }

    /// <summary>Publishes <paramref name="count"/> bytes written into the space last handed out.</summary>
    /// <exception cref="ArgumentOutOfRangeException">More than was handed out.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Advance(int count)
    {
        ThrowIfDisposed();
        if ((uint)count > (uint)_reserved)
        {
            ThrowAdvanceTooFar(count);
        }

        _lease.ThrowIfLost();
        _reserved -= count;
        Publish(count);
    }

    /// <summary>
    /// Fills free space from a Unix file descriptor (a pipe, socket or file) with one <c>readv</c>, waiting for space
    /// first if slow readers hold it. Blocks as the descriptor does. Returns the bytes read; 0 means end of file.
    /// </summary>
    /// <param name="source">An open descriptor, e.g. a <c>SafeFileHandle</c> or <c>SafePipeHandle</c>.</param>
    /// <param name="maxLength">The most to read in this call; only this much free space is reserved.</param>
    /// <exception cref="PlatformNotSupportedException">On Windows.</exception>
    /// <exception cref="IOException"><c>readv</c> failed.</exception>
    public int ReadFrom(SafeHandle source, int maxLength = DefaultReadFromLength)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (maxLength <= 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(maxLength), "maxLength must be positive.");
        }

        int length;
        while ((length = ReserveForCaller(maxLength, out _, out _)) == 0)
        {
            WaitForSpace(long.MaxValue, CancellationToken.None);
        }

        _ring.Split(_position, length, out int index, out int firstLength, out int secondLength);
        int read = VectoredIo.Read(source, _ring.Data + index, firstLength, _ring.Data, secondLength);
        _reserved = 0;
        if (read > 0)
        {
            Publish(read);
        }

        return read;
    }

    /// <summary>
    /// Ends the stream at <see cref="Position"/>: readers drain what is left, then read 0. Idempotent. Writing after
    /// it is an <see cref="InvalidOperationException"/>.
    /// </summary>
    public void Complete()
    {
        ThrowIfDisposed();
        if (_completed)
        {
            return;
        }

        _lease.ThrowIfLost();
        _reserved = 0;
        _completed = true;

        // Release: written after the final Writer Position; pairs with ReadAcquire in RingReader.IsCompleted.
        Atomic.WriteRelease(_ring.CompletedPosition, _position);
        _dataSignal.Notify();
    }

    /// <summary>A write-only <see cref="Stream"/> that waits for space; disposing it completes the ring's stream.</summary>
    public Stream AsStream() => new RingWriterStream(this);

    /// <summary>
    /// A <see cref="PipeWriter"/> over the ring: <c>GetMemory</c> hands out ring memory when enough is contiguous (zero
    /// copy), a buffer otherwise; <c>FlushAsync</c> waits for space; <c>Complete</c> completes the ring's stream.
    /// </summary>
    public PipeWriter AsPipeWriter() => new RingPipeWriter(this);

    /// <summary>Releases the writer lease without completing the stream; any process may then claim the writer and continue.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        Volatile.Write(ref _disposed, true);
        _asyncWaiter?.TryComplete(false);

        // Wakes a sync wait of another thread and waits for it to leave: the lease holds this writer's mapping reference.
        _gate.Drain(_ring.SpaceSignal);
        _lease.Dispose();
    }

    public bool IsDisposed => _disposed;

    /// <summary>
    /// Hands out at least <paramref name="sizeHint"/> contiguous bytes of ring memory if that much is free now, up to
    /// <paramref name="length"/>; false when it is not (the pipe writer then buffers).
    /// </summary>
    public bool TryGetContiguous(int sizeHint, int length, out Memory<byte> memory)
    {
        ThrowIfUnusable();
        _reserved = 0;
        int contiguous = Math.Min(Free(sizeHint), _capacity - _ring.IndexOf(_position));
        if (contiguous >= sizeHint)
        {
            int reserved = Reserve(Math.Min(contiguous, Math.Max(sizeHint, length)));
            if (reserved >= sizeHint)
            {
                _reserved = reserved;
                memory = _memory.Memory.Slice(_ring.IndexOf(_position), reserved);
                return true;
            }
        }

        memory = default;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ReserveForCaller(int maxLength, out int index, out int firstLength)
    {
        ThrowIfUnusable();
        if (maxLength < 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(maxLength), "maxLength must not be negative.");
        }

        int length = Reserve(maxLength);
        _reserved = length;
        _ring.Split(_position, length, out index, out firstLength, out _);
        return length;
    }

    /// <summary>Raises the tail for up to <paramref name="wanted"/> bytes at the write position; returns how many (0 when full).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Reserve(int wanted)
    {
        // Every write path reserves first: a writer whose lease was taken over stops here, before it writes.
        _lease.ThrowIfLost();
        _reserved = 0;
        for (int attempt = 0; attempt < 64; attempt++)
        {
            int length = Math.Min(wanted, Free(wanted));
            if (length == 0)
            {
                return 0;
            }

            long newTail = _position + length - _capacity;
            if (newTail <= _tail || RaiseTail(Ahead(newTail)))
            {
                return length;
            }
        }

        // Readers keep joining below the intended tail; report no space and let the caller wait.
        return 0;
    }

    /// <summary>Free bytes at the write position by the cached slowest pin; rescans when that says there is not enough.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Free(int wanted)
    {
        if (!_block)
        {
            return _capacity;
        }

        // Acquire: a changed Join Sequence means a reader pinned where the cache does not know; pairs with RingConsumer.Join.
        if (Atomic.ReadAcquire(_ring.JoinSequence) != _seenJoins)
        {
            Rescan(reap: false);
        }

        int free = FreeFrom(_minPin);
        if (free < wanted && free < _capacity)
        {
            Rescan(reap: false);
            free = FreeFrom(_minPin);
        }

        return free;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FreeFrom(long minPin)
    {
        if (!_block || minPin == ReaderSlotLayout.NoPin)
        {
            return _capacity;
        }

        long lag = _position - minPin;
        return lag <= 0 ? _capacity : lag >= _capacity ? 0 : (int)(_capacity - lag);
    }

    /// <remarks>Out of line: a scan of the reader table, on a join or when the cached pin says there is too little room.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Rescan(bool reap)
    {
        _lease.ThrowIfLost();

        // Acquire before the scan: every pin stored before a join counted here is visible to the scan.
        _seenJoins = Atomic.ReadAcquire(_ring.JoinSequence);
        _minPin = _ring.Readers.MinPin(reap, out _);

        // Release: for inspection tools; this writer keeps its own copy.
        Atomic.WriteRelease(_ring.CachedMinReaderPosition, _minPin);
    }

    /// <summary>
    /// The tail to raise to for a write that needs <paramref name="newTail"/>: the next multiple of the tail chunk, but
    /// never above Writer Position nor, under <see cref="SlowReaderPolicy.Block"/>, above the cached slowest pin (a
    /// safe lower bound of every pin; a reader that joined since is caught by the Join Sequence check in
    /// <see cref="RaiseTail"/>). So a run of small writes raises the tail, with its fences and stores on a shared
    /// line, once per chunk instead of once per write.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long Ahead(long newTail)
    {
        long ahead = (newTail + _tailChunk - 1) & ~(long)(_tailChunk - 1);
        long limit = _block && _minPin != ReaderSlotLayout.NoPin ? Math.Min(_position, _minPin) : _position;
        return Math.Max(newTail, Math.Min(ahead, limit));
    }

    /// <summary>Raises Tail Intent then Tail to <paramref name="newTail"/>; false when a reader that joined meanwhile pins below it.</summary>
    /// <remarks>Out of line (once per tail chunk), so the write's own copy and publication fit in its inlining budget.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private bool RaiseTail(long newTail)
    {
        if (_block)
        {
            if (newTail > _intent)
            {
                // Full fence: the intent is visible before Join Sequence is re-read (Dekker with RingConsumer.Join).
                Atomic.Exchange(_ring.TailIntent, newTail);
                _intent = newTail;
            }
            else
            {
                Atomic.FullFence();
            }

            if (Atomic.ReadAcquire(_ring.JoinSequence) != _seenJoins)
            {
                Rescan(reap: false);
            }

            if (_minPin < newTail)
            {
                // A reader joined below the intended tail. Take the intent back, so readers joining from now on pin
                // at the real tail instead of above bytes that stay intact; readers that already pinned at the higher
                // intent start there and lose nothing.
                Atomic.WriteRelease(_ring.TailIntent, _tail);
                _intent = _tail;
                return false;
            }
        }
        else if (newTail > _intent)
        {
            // No pins to respect: the intent only keeps joining readers at or above the tail.
            Atomic.WriteRelease(_ring.TailIntent, newTail);
            _intent = newTail;
        }

        // Release, then a store fence: Tail is visible before any byte below it is overwritten; pairs with the
        // LoadFence + ReadAcquire of Tail after a reader's copy (RingConsumer.IsIntact). A seqlock's writer needs its
        // stores in order, not a full fence: no load here has to wait for this store.
        Atomic.WriteRelease(_ring.TailPosition, newTail);
        Atomic.StoreFence();
        _tail = newTail;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Publish(int count)
    {
        _position += count;

        // Release: publishes the bytes just written; pairs with ReadAcquire of Writer Position in RingReader.
        Atomic.WriteRelease(_writerPosition, _position);

        // A load (and a full fence where asymmetric fences are off): wakes readers only when one sleeps (see Signal.Notify).
        _dataSignal.Notify();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfUnusable()
    {
        ThrowIfDisposed();
        if (_completed)
        {
            ThrowCompleted();
        }
    }

    /// <summary>Out of line, as every formatted throw on a hot path (see <see cref="ThrowCompleted"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowAdvanceTooFar(int count)
        => ThrowHelper.ThrowArgumentOutOfRange(nameof(count),
            $"Cannot advance by {count} bytes: {_reserved} bytes of free space were handed out by GetWriteSpans/GetWriteMemory.");

    /// <summary>Out of line: the message's formatting would otherwise put its locals (zeroed on entry) into every write.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowCompleted()
        => ThrowHelper.ThrowInvalidOperation($"The stream of '{_ring.FilePath}' was completed at position {_position}; nothing more can be written.");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowDisposed(nameof(RingWriter));
        }
    }
}
