using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SharedLog.Files;
using SharedLog.Layout;
using SharedLog.Leases;
using SharedLog.Memory;
using SharedLog.Platform;
using SharedLog.Waiting;

namespace SharedLog.Ring;

/// <summary>
/// The core of a <see cref="RingReader"/>: one reader of a <see cref="ByteRing"/> at its own 64-bit position,
/// holding a reader lease.
/// </summary>
/// <remarks>
/// <para>
/// Design: the reader owns one reader slot and pins a position there; under <see cref="SlowReaderPolicy.Block"/>
/// the writer never raises Tail above a live pin, so the bytes from the pin onwards stay intact. The pin only moves
/// forward with a plain release store, except when the reader pins a position the writer may not know about
/// (creation, a backward <see cref="Seek"/>, re-arming after eviction): then it joins (<see cref="Join"/>) — store
/// the pin, increment Join Sequence (a full fence), re-read Tail Intent and move up to it if the writer already
/// intends to overwrite there. With the writer's half (store intent, full fence, re-read Join Sequence), at least
/// one of them sees the other.
/// </para>
/// <para>
/// Reads acquire Writer Position, copy, then validate seqlock style: a load fence and a re-read of Tail. If Tail
/// passed the read position, the copied bytes may be torn: they and every byte up to Tail count in
/// <see cref="LostBytes"/>, and the reader resumes at Tail, the oldest intact byte. So bytes delivered plus
/// <see cref="LostBytes"/> is exactly the span of positions the reader went through.
/// </para>
/// <para>
/// Waiting idles by the reader's <see cref="IdleStrategy"/> on the ring's data signal (the writer wakes sleepers
/// after it publishes or completes); a reader that moves its pin under <see cref="SlowReaderPolicy.Block"/> notifies
/// the space signal, which costs a load unless the writer sleeps for space (see Signal.Notify).
/// </para>
/// </remarks>
internal sealed unsafe partial class RingConsumer : ISignalCondition, IDisposable
{
    private const int VerdictUnknown = 0;
    private const int VerdictIntact = 1;
    private const int VerdictOverwritten = 2;

    private readonly ByteRing _owner;
    private readonly RingFile _ring;
    private readonly int _capacity;
    private readonly bool _block;
    private readonly ReaderLease _lease;
    private readonly MappedMemoryManager _memory;
    private IdleStrategy _idle;
    private AsyncWaiter? _asyncWaiter;
    private long _position;
    private long _pin;
    private long _heldPosition;
    private int _heldLength;
    private int _verdict;
    private long _waitBeyond;
    private StreamWatch _watch;
    private bool _disposed;
    private WaitGate _gate;

    public RingConsumer(ByteRing owner, RingFile ring, ReadFrom from, IdleStrategy? idle)
    {
        _owner = owner;
        _ring = ring;
        _idle = idle ?? IdleStrategy.Default;
        _capacity = ring.Capacity;
        _block = ring.Policy == SlowReaderPolicy.Block;
        _memory = new MappedMemoryManager(ring.Data, ring.Capacity);
        _lease = ring.Shared.LeaseReaderSlot(ReaderSlotLayout.RoleReader);
        try
        {
            long writer = Atomic.ReadAcquire(ring.WriterPosition);
            long start = from == ReadFrom.Latest
                ? writer
                : Math.Max(0, Math.Max(writer - _capacity, Atomic.ReadAcquire(ring.TailPosition)));

            // Start where the pin is: bytes below it are the writer's to overwrite (it intends to, or already did).
            _position = Join(start);
            if (!_block)
            {
                // Under Evict nothing waits for the pin: start at what is intact now, so the first read loses nothing.
                _position = Math.Max(_position, Atomic.ReadAcquire(ring.TailPosition));
            }
        }
        catch
        {
            // Gives back the slot, the heartbeat and the mapping reference: no phantom reader is left behind.
            _lease.Dispose();
            throw;
        }
    }

    /// <summary>The position of the next byte this reader reads.</summary>
    public long Position
    {
        get
        {
            ThrowIfDisposed();
            return _position;
        }
    }

    /// <summary>Bytes this reader skipped because the writer overwrote them before they were read (or while they were held).</summary>
    public long LostBytes
    {
        get
        {
            ThrowIfDisposed();
            return _lease.Lost;
        }
    }

    /// <summary>Bytes available to read now (0 when caught up with the writer).</summary>
    public long Available => ThrowIfDisposedThen(0) + Math.Clamp(Atomic.ReadAcquire(_ring.WriterPosition) - _position, 0, _capacity);

    /// <summary>True once the writer completed the stream and this reader has read up to its end.</summary>
    public bool IsCompleted
    {
        get
        {
            ThrowIfDisposed();

            // Acquire: pairs with the release in RingProducer.Complete (written after the final Writer Position).
            long completed = Atomic.ReadAcquire(_ring.CompletedPosition);
            return completed != RingLayout.NotCompleted && _position >= completed;
        }
    }

    /// <summary>The reader-table slot this reader occupies (for diagnostics).</summary>
    public int SlotIndex => _lease.SlotIndex;

    /// <summary>
    /// How <see cref="Wait(TimeSpan, CancellationToken)"/> and the blocking Stream reads idle while no byte is available. Default
    /// <see cref="IdleStrategy.Blocking"/>. Async waits never spin: they sleep on the handle's dispatcher thread.
    /// </summary>
    public IdleStrategy IdleStrategy
    {
        get => _idle;
        set => _idle = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// Copies available bytes into <paramref name="destination"/> and returns how many; 0 when nothing is available
    /// now (see <see cref="IsCompleted"/> for the end of the stream). Never waits.
    /// </summary>
    /// <remarks>Not inlined into <see cref="RingReader.Read(Span{byte})"/>, for the reason <see cref="RingProducer.Write"/> gives.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public int Read(Span<byte> destination)
    {
        ThrowIfDisposed();
        _heldLength = 0;
        if (destination.IsEmpty)
        {
            return 0;
        }

        RearmIfEvicted();
        for (int lap = 0; lap < 1024; lap++)
        {
            // Acquire: pairs with the release of Writer Position in RingProducer.Publish; the bytes below it are written.
            long writer = Atomic.ReadAcquire(_ring.WriterPosition);
            long tail = Atomic.ReadAcquire(_ring.TailPosition);
            if (tail > _position)
            {
                Skip(tail);
                continue;
            }

            long available = writer - _position;
            if (available <= 0)
            {
                return 0;
            }

            int length = (int)Math.Min(Math.Min(available, destination.Length), _capacity);
            _ring.CopyOut(_position, destination[..length]);
            if (!IsIntact(_position))
            {
                Skip(Atomic.ReadAcquire(_ring.TailPosition));
                continue;
            }

            Consume(length);
            return length;
        }

        throw Lapped();
    }

    /// <summary>
    /// <see cref="Read(Span{byte})"/>, first lingering up to <paramref name="maxDelay"/> while some bytes but fewer than
    /// <paramref name="minimumLength"/> are available (see <see cref="ReadDelay"/>). Returns 0 at once when nothing is
    /// available. The linger polls Writer Position and ends early at the stream's end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Read(Span<byte> destination, int minimumLength, TimeSpan maxDelay)
    {
        ThrowIfDisposed();
        if ((uint)minimumLength > (uint)destination.Length)
        {
            ThrowMinimumLength(minimumLength, destination.Length);
        }

        ReadDelay.Validate(maxDelay);
        if (minimumLength > 1 && maxDelay > TimeSpan.Zero && !Linger(Math.Min(minimumLength, _capacity), maxDelay))
        {
            // Nothing was there when the call began: 0 at once, even if bytes arrived since.
            _heldLength = 0;
            return 0;
        }

        return Read(destination);
    }

    /// <summary>
    /// Spins while some but fewer than <paramref name="minimum"/> bytes are available, up to <paramref name="maxDelay"/>;
    /// false when none is.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private bool Linger(int minimum, TimeSpan maxDelay)
    {
        // Acquire: pairs with the release of Writer Position in RingProducer.Publish. Behind the tail (lapped), the
        // difference is large and the read that follows resynchronises. Writer Position only grows, so "nothing" can
        // only be this first poll's answer.
        long available = Atomic.ReadAcquire(_ring.WriterPosition) - _position;
        if (available <= 0)
        {
            return false;
        }

        var delay = new ReadDelay(maxDelay, _idle, _ring.Shared.YieldsForCrowd(_idle));

        // Acquire of Completed Position: pairs with the release in RingProducer.Complete (after the final Writer Position).
        while (available < minimum && Atomic.ReadAcquire(_ring.CompletedPosition) == RingLayout.NotCompleted && delay.TryPause())
        {
            available = Atomic.ReadAcquire(_ring.WriterPosition) - _position;
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowMinimumLength(int minimumLength, int destinationLength)
        => ThrowHelper.ThrowArgumentOutOfRange(nameof(minimumLength),
            $"minimumLength must be 0 to the destination's length ({destinationLength}); got {minimumLength}.");

    /// <summary>
    /// Reads at least one byte, waiting for the writer if needed; returns 0 only at the end of the stream.
    /// </summary>
    /// <exception cref="SharedLogException">The writer process died without completing the stream while this reader waited.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    /// <exception cref="ObjectDisposedException">The reader or its ring was disposed while waiting.</exception>
    public ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        int read = Read(destination.Span);
        return read > 0 || destination.IsEmpty || IsCompleted ? new ValueTask<int>(read) : ReadSlowAsync(destination, cancellationToken);
    }

    /// <summary>
    /// Hands out the available bytes in place as up to two spans (the second continues at the start of the data) and
    /// returns their total length. Process them, optionally <see cref="Validate"/>, then <see cref="Advance"/>.
    /// </summary>
    /// <remarks>
    /// Under <see cref="SlowReaderPolicy.Block"/> nothing handed out is overwritten while held. Under
    /// <see cref="SlowReaderPolicy.Evict"/> (or after an eviction) the writer may overwrite them while you read;
    /// <see cref="Validate"/> tells you afterwards.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetReadSpans(out ReadOnlySpan<byte> first, out ReadOnlySpan<byte> second)
    {
        int length = Hold(out int index, out int firstLength);
        first = new ReadOnlySpan<byte>(_ring.Data + index, firstLength);
        second = new ReadOnlySpan<byte>(_ring.Data, length - firstLength);
        return length;
    }

    /// <summary>
    /// Like <see cref="GetReadSpans"/>, as <see cref="ReadOnlyMemory{T}"/> for APIs such as
    /// <c>RandomAccess.Write(handle, IReadOnlyList&lt;ReadOnlyMemory&lt;byte&gt;&gt;, offset)</c> or sockets. Valid until
    /// the next call on this reader.
    /// </summary>
    public int GetReadMemory(out ReadOnlyMemory<byte> first, out ReadOnlyMemory<byte> second)
    {
        int length = Hold(out int index, out int firstLength);
        first = _memory.Memory.Slice(index, firstLength);
        second = _memory.Memory[..(length - firstLength)];
        return length;
    }

    /// <summary>
    /// True when the bytes last handed out by <see cref="GetReadSpans"/> or <see cref="GetReadMemory"/> were not
    /// overwritten up to now. When false, <see cref="Advance"/> counts them in <see cref="LostBytes"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Validate()
    {
        ThrowIfDisposed();
        if (_heldLength == 0)
        {
            return true;
        }

        if (_verdict == VerdictUnknown)
        {
            _verdict = IsIntact(_heldPosition) ? VerdictIntact : VerdictOverwritten;
        }

        return _verdict == VerdictIntact;
    }

    /// <summary>
    /// Consumes <paramref name="count"/> of the bytes last handed out. If they were overwritten while held (see
    /// <see cref="Validate"/>), they and every other overwritten byte count in <see cref="LostBytes"/> and the reader
    /// moves to the oldest intact byte; call <see cref="GetReadSpans"/> again.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">More than was handed out.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Advance(int count)
    {
        ThrowIfDisposed();
        if ((uint)count > (uint)_heldLength)
        {
            ThrowAdvanceTooFar(count);
        }

        if (count == 0)
        {
            return;
        }

        if (!Validate())
        {
            Skip(Math.Max(_position + count, Atomic.ReadAcquire(_ring.TailPosition)));
            _heldLength = 0;
            return;
        }

        Consume(count);
        _heldPosition += count;
        _heldLength -= count;
        _verdict = VerdictUnknown;
    }

    /// <summary>Out of line: the message's formatting would otherwise put its locals (zeroed on entry) into every advance.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowAdvanceTooFar(int count)
        => ThrowHelper.ThrowArgumentOutOfRange(nameof(count),
            $"Cannot advance by {count} bytes: {_heldLength} bytes were handed out by GetReadSpans/GetReadMemory.");

    /// <summary>
    /// Drains available bytes into a Unix file descriptor (a pipe, socket or file) with one <c>writev</c> and returns
    /// how many were written (0 when nothing is available). Blocks as the descriptor does.
    /// </summary>
    /// <remarks>
    /// Under <see cref="SlowReaderPolicy.Evict"/> the writer may overwrite bytes while the kernel copies them; such
    /// bytes were already written out, and they count in <see cref="LostBytes"/> (compare it before and after).
    /// </remarks>
    /// <exception cref="PlatformNotSupportedException">On Windows.</exception>
    /// <exception cref="IOException"><c>writev</c> failed.</exception>
    public int WriteTo(SafeHandle destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        int length = Hold(out int index, out int firstLength);
        if (length == 0)
        {
            return 0;
        }

        int written = VectoredIo.Write(destination, _ring.Data + index, firstLength, _ring.Data, length - firstLength);
        Advance(written);
        return written;
    }

    /// <summary>
    /// Moves the reader to <paramref name="position"/>, anywhere from the oldest intact byte (<see cref="ByteRing.OldestPosition"/>,
    /// at least writer position - capacity) to the writer position.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The position was overwritten, or is beyond the writer.</exception>
    public void Seek(long position)
    {
        ThrowIfDisposed();
        RearmIfEvicted();
        long writer = Atomic.ReadAcquire(_ring.WriterPosition);
        long tail = Atomic.ReadAcquire(_ring.TailPosition);
        if (position > writer)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(position),
                $"Position {position} is beyond the writer position {writer}; a reader can seek within [{tail}, {writer}].");
        }

        if (position < tail)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(position),
                $"Position {position} was already overwritten; the oldest intact byte is at {tail} (the window is [{tail}, {writer}]).");
        }

        _heldLength = 0;
        if (position < _pin)
        {
            // Backwards: the writer may not know about this pin yet. A seek never stores a pin above the target: a
            // writer whose cached slowest pin is stale may intend past this reader's current position, and a pin
            // raised to that intent (even for a moment) could let it overwrite bytes at the position the reader keeps
            // when the seek fails (found by the SPIN model of the ring, P5).
            long intent = Atomic.ReadAcquire(_ring.TailIntent);
            if (intent > position)
            {
                ThrowBeingOverwritten(position, intent);
            }

            long previous = _pin;
            long pinned = Join(position);
            if (pinned > position)
            {
                // The intent moved past the target during the join: put the previous pin back, then refuse.
                _pin = previous;
                if (_lease.IsOwned)
                {
                    // Release: the writer reads pins in its scans (ReaderTable.MinPin), and the Join Sequence this
                    // join bumped makes its next raise rescan. Full fence: the old pin is visible before this reader
                    // reads again (one step in the model's SEEKPIN branch).
                    Atomic.WriteRelease(_lease.PinAddress, previous);
                    Atomic.FullFence();
                }

                ThrowBeingOverwritten(position, pinned);
            }
        }
        else
        {
            _pin = position;
            _lease.MovePin(position);
        }

        _position = position;
    }

    /// <summary>
    /// Waits until bytes are available or the stream ended: true then; false on timeout or when the reader or its ring
    /// is disposed, also from another thread (the wait ends promptly).
    /// </summary>
    /// <exception cref="SharedLogException">The writer process died without completing the stream.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        WaitDeadline.Validate(timeout);
        return WaitForData(_position, timeout, cancellationToken);
    }

    /// <summary>
    /// Completes true when bytes are available or the stream ended, false when this reader or its ring is disposed
    /// while waiting; throws <see cref="OperationCanceledException"/> on cancellation.
    /// </summary>
    /// <exception cref="SharedLogException">The writer process died without completing the stream.</exception>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return WaitForDataAsync(_position, cancellationToken);
    }

    /// <summary>A read-only <see cref="Stream"/> over this reader, seekable within the retained window. Disposing it leaves the reader open.</summary>
    public Stream AsStream() => new RingReaderStream(this);

    /// <summary>
    /// A <see cref="PipeReader"/> over this reader: buffers are the ring's memory in place (zero copy);
    /// <c>AdvanceTo</c> consumes. Under <see cref="SlowReaderPolicy.Evict"/> check <see cref="LostBytes"/>.
    /// As with a paused <see cref="Pipe"/>, a consumer that examines a full ring without consuming anything waits for
    /// bytes that cannot come (under <see cref="SlowReaderPolicy.Block"/>, until the writer's slow-reader timeout).
    /// </summary>
    public PipeReader AsPipeReader() => new RingPipeReader(this);

    /// <summary>Gives the reader slot back.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        Volatile.Write(ref _disposed, true);
        _asyncWaiter?.TryComplete(false);

        // Wakes a sync wait of another thread and waits for it to leave: the lease holds this reader's mapping reference.
        _gate.Drain(_ring.DataSignal);
        _lease.Dispose();
    }

    public bool IsDisposed => _disposed;

    /// <summary>The writer position now (acquire).</summary>
    public long WriterPositionNow => Atomic.ReadAcquire(_ring.WriterPosition);

    /// <summary>The completed position now, or <see cref="RingLayout.NotCompleted"/> (acquire; pairs with RingProducer.Complete).</summary>
    public long CompletedPositionNow => Atomic.ReadAcquire(_ring.CompletedPosition);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool HasDataBeyond(long beyond)
        => Atomic.ReadAcquire(_ring.WriterPosition) > beyond
            || Atomic.ReadAcquire(_ring.CompletedPosition) != RingLayout.NotCompleted
            || Atomic.ReadAcquire(_ring.TailPosition) > _position;

    /// <summary>Pins the available bytes for the caller; returns their length and where they start.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Hold(out int index, out int firstLength)
    {
        ThrowIfDisposed();
        RearmIfEvicted();
        long writer = Atomic.ReadAcquire(_ring.WriterPosition);
        long tail = Atomic.ReadAcquire(_ring.TailPosition);
        if (tail > _position)
        {
            Skip(tail);
        }

        int length = (int)Math.Clamp(writer - _position, 0, _capacity);
        _heldPosition = _position;
        _heldLength = length;
        _verdict = VerdictUnknown;
        _ring.Split(_position, length, out index, out firstLength, out _);
        return length;
    }

    /// <summary>Seqlock validation: were the bytes from <paramref name="position"/> intact when the copy ended?</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsIntact(long position)
    {
        // Load fence: the data was read before Tail is re-read; pairs with the full fence of the Tail store in
        // RingProducer.RaiseTail, which precedes every overwrite.
        Atomic.LoadFence();
        return Atomic.ReadAcquire(_ring.TailPosition) <= position;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Consume(int count)
    {
        _position += count;
        if (_position > _pin)
        {
            // Moving the pin forward is always safe; the writer reads it in its rescans.
            _pin = _position;
            _lease.MovePin(_pin);
        }
    }

    /// <summary>Counts the bytes up to <paramref name="to"/> as lost and resumes there.</summary>
    private void Skip(long to)
    {
        if (to <= _position)
        {
            return;
        }

        _lease.AddLost(to - _position);
        _position = to;
        if (_position > _pin)
        {
            _pin = _position;
            _lease.MovePin(_pin);
        }
    }

    /// <summary>
    /// Takes protection again after an eviction, or in a fresh slot after this one was reaped (only possible through
    /// the heartbeat fallback; the lease never writes to the old slot again). Bytes below the new pin are the writer's
    /// to overwrite: they count in <see cref="LostBytes"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RearmIfEvicted()
    {
        if (!_lease.IsOwned || (_block && _lease.IsEvicted))
        {
            Rearm();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Rearm()
    {
        _lease.EnsureOwned();
        Skip(Join(_position));
    }

    /// <summary>
    /// Pins at least <paramref name="desired"/> where the writer may not know about it. The pin ends at or above Tail
    /// Intent, or the writer sees it before it raises Tail past it.
    /// </summary>
    private long Join(long desired)
    {
        long* pinAddress = _lease.PinAddress;
        for (int attempt = 0; attempt < 1_000_000; attempt++)
        {
            long pin = Math.Max(desired, Atomic.ReadAcquire(_ring.TailIntent));
            Atomic.WriteRelease(pinAddress, pin);
            _lease.Activate();

            // Interlocked (a full fence): the pin is stored before the writer can see this join, and Tail Intent is
            // re-read after it; pairs with the intent store, fence and Join Sequence read in RingProducer.RaiseTail.
            Atomic.GetAndAdd(_ring.JoinSequence, 1);
            if (Atomic.ReadAcquire(_ring.TailIntent) <= pin)
            {
                _pin = pin;
                _lease.NotifySpace();
                return pin;
            }
        }

        throw new SharedLogException($"A reader of '{_ring.FilePath}' could not pin a position: the writer moved on faster than it could register.");
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowBeingOverwritten(long position, long oldest)
        => ThrowHelper.ThrowArgumentOutOfRange(nameof(position),
            $"Position {position} is being overwritten; the oldest intact byte is at {oldest}. The reader stays where it was.");

    private SharedLogException Lapped()
        => new($"The reader of '{_ring.FilePath}' could not keep up: it was lapped 1024 times in one call. Use a larger ring or a faster reader.");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowDisposed(nameof(RingReader));
        }
    }

    private long ThrowIfDisposedThen(long value)
    {
        ThrowIfDisposed();
        return value;
    }
}
