using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SharedLog.Ring;
using SharedLog.Waiting;

namespace SharedLog;

/// <summary>
/// One reader of a <see cref="ByteRing"/>, in this or any other process, at its own 64-bit position. Not
/// thread-safe: one thread reads at a time.
/// </summary>
/// <remarks>
/// <para>
/// The reader pins its position in a reader slot; under <see cref="SlowReaderPolicy.Block"/> the writer never
/// overwrites bytes at or above a live pin, so a reader that is not evicted never sees a held byte change and never
/// loses one. A reader that joins (is created, or seeks backward) while the writer is raising its tail starts at or
/// above the writer's intended tail.
/// </para>
/// <para>
/// Reads copy, then validate seqlock style: if the writer passed the read position meanwhile (under
/// <see cref="SlowReaderPolicy.Evict"/>, or after an eviction), the copied bytes and every byte up to the oldest intact
/// one count in <see cref="LostBytes"/>, and the reader resumes there. So bytes delivered plus <see cref="LostBytes"/>
/// is exactly the span of positions the reader went through.
/// </para>
/// </remarks>
public sealed class RingReader : IDisposable
{
    private readonly RingConsumer _core;

    internal RingReader(RingConsumer core) => _core = core;

    /// <summary>The position of the next byte this reader reads.</summary>
    public long Position => _core.Position;

    /// <summary>Bytes this reader skipped because the writer overwrote them before they were read (or while they were held).</summary>
    public long LostBytes => _core.LostBytes;

    /// <summary>Bytes available to read now (0 when caught up with the writer).</summary>
    public long Available => _core.Available;

    /// <summary>True once the writer completed the stream and this reader has read up to its end.</summary>
    public bool IsCompleted => _core.IsCompleted;

    /// <summary>The reader-table slot this reader occupies (for diagnostics).</summary>
    public int SlotIndex => _core.SlotIndex;

    /// <summary>
    /// How <see cref="Wait(TimeSpan)"/> and the blocking Stream reads idle while no byte is available. Default
    /// <see cref="IdleStrategy.Blocking"/>. Async waits never spin: they sleep on the handle's dispatcher thread.
    /// </summary>
    public IdleStrategy IdleStrategy
    {
        get => _core.IdleStrategy;
        set => _core.IdleStrategy = value;
    }

    /// <summary>
    /// Copies available bytes into <paramref name="destination"/> and returns how many; 0 when nothing is available
    /// now (see <see cref="IsCompleted"/> for the end of the stream). Never waits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Read(Span<byte> destination) => _core.Read(destination);

    /// <summary>The longest <see cref="Read(Span{byte}, int, TimeSpan)"/> lingers: 1 ms.</summary>
    public static TimeSpan MaxReadDelay => ReadDelay.Max;

    /// <summary>
    /// Like <see cref="Read(Span{byte})"/>, but while some bytes and fewer than <paramref name="minimumLength"/> are
    /// available it first lingers, up to <paramref name="maxDelay"/>, for the writer to add more. For a consumer of a
    /// stream of small writes that wants throughput: it reads fewer, larger pieces, and a reader that does not chase
    /// every write leaves the writer's cache lines alone while it writes them (in this repository's benchmarks a
    /// stream of 64-byte writes moved several times as fast). Each byte may reach the reader up to
    /// <paramref name="maxDelay"/> later. Returns 0 at once when nothing is available (then <see cref="Wait(TimeSpan)"/>
    /// as usual), and stops lingering when the stream is completed.
    /// </summary>
    /// <param name="destination">Where the bytes go.</param>
    /// <param name="minimumLength">How many bytes make a read worth taking at once: 0 to the destination's length.</param>
    /// <param name="maxDelay">The longest the read lingers: 0 to <see cref="MaxReadDelay"/>. The linger spins on this
    /// thread (it yields instead when <see cref="IdleStrategy"/> is <see cref="IdleStrategy.Yielding"/>, or blocking
    /// among readers that outnumber the cores); a few
    /// microseconds suit a flowing stream.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="minimumLength"/> or <paramref name="maxDelay"/> is out of range.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Read(Span<byte> destination, int minimumLength, TimeSpan maxDelay) => _core.Read(destination, minimumLength, maxDelay);

    /// <summary>Reads at least one byte, waiting for the writer if needed; returns 0 only at the end of the stream.</summary>
    /// <exception cref="SharedLogException">The writer process died without completing the stream while this reader waited.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    /// <exception cref="ObjectDisposedException">The reader or its ring was disposed while waiting.</exception>
    public ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default) => _core.ReadAsync(destination, cancellationToken);

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
    public int GetReadSpans(out ReadOnlySpan<byte> first, out ReadOnlySpan<byte> second) => _core.GetReadSpans(out first, out second);

    /// <summary>
    /// Like <see cref="GetReadSpans"/>, as <see cref="ReadOnlyMemory{T}"/> for APIs such as
    /// <c>RandomAccess.Write(handle, IReadOnlyList&lt;ReadOnlyMemory&lt;byte&gt;&gt;, offset)</c> or sockets. Valid until
    /// the next call on this reader.
    /// </summary>
    public int GetReadMemory(out ReadOnlyMemory<byte> first, out ReadOnlyMemory<byte> second) => _core.GetReadMemory(out first, out second);

    /// <summary>
    /// True when the bytes last handed out by <see cref="GetReadSpans"/> or <see cref="GetReadMemory"/> were not
    /// overwritten up to now. When false, <see cref="Advance"/> counts them in <see cref="LostBytes"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Validate() => _core.Validate();

    /// <summary>
    /// Consumes <paramref name="count"/> of the bytes last handed out. If they were overwritten while held (see
    /// <see cref="Validate"/>), they and every other overwritten byte count in <see cref="LostBytes"/> and the reader
    /// moves to the oldest intact byte; call <see cref="GetReadSpans"/> again.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">More than was handed out.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Advance(int count) => _core.Advance(count);

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
    public int WriteTo(SafeHandle destination) => _core.WriteTo(destination);

    /// <summary>
    /// Moves the reader to <paramref name="position"/>, anywhere from the oldest intact byte (<see cref="ByteRing.OldestPosition"/>)
    /// to the writer position.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The position was (or is being) overwritten, or is beyond the writer; the reader stays where it was.</exception>
    public void Seek(long position) => _core.Seek(position);

    /// <summary>Waits until bytes are available or the stream ended. True then; false on timeout or when disposed.</summary>
    /// <exception cref="SharedLogException">The writer process died without completing the stream.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Wait(TimeSpan timeout) => _core.Wait(timeout, CancellationToken.None);

    /// <summary>
    /// Like <see cref="Wait(TimeSpan)"/>, and throws <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> is cancelled. Disposing the reader or its ring from another thread ends
    /// the wait promptly (false).
    /// </summary>
    /// <exception cref="SharedLogException">The writer process died without completing the stream.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken) => _core.Wait(timeout, cancellationToken);

    /// <summary>
    /// Completes true when bytes are available or the stream ended, false when this reader or its ring is disposed
    /// while waiting; throws <see cref="OperationCanceledException"/> on cancellation.
    /// </summary>
    /// <exception cref="SharedLogException">The writer process died without completing the stream.</exception>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken = default) => _core.WaitAsync(cancellationToken);

    /// <summary>A read-only <see cref="Stream"/> over this reader, seekable within the retained window. Disposing it leaves the reader open.</summary>
    public Stream AsStream() => _core.AsStream();

    /// <summary>
    /// A <see cref="PipeReader"/> over this reader: buffers are the ring's memory in place (zero copy);
    /// <c>AdvanceTo</c> consumes. Under <see cref="SlowReaderPolicy.Evict"/> check <see cref="LostBytes"/>.
    /// As with a paused <see cref="Pipe"/>, a consumer that examines a full ring without consuming anything waits for
    /// bytes that cannot come (under <see cref="SlowReaderPolicy.Block"/>, until the writer's slow-reader timeout).
    /// </summary>
    public PipeReader AsPipeReader() => _core.AsPipeReader();

    /// <summary>Gives the reader slot back.</summary>
    public void Dispose() => _core.Dispose();
}
