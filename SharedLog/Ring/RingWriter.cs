using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SharedLog.Ring;

namespace SharedLog;

/// <summary>
/// The single writer of a <see cref="ByteRing"/>. Holds the writer lease until disposed. Not thread-safe: one thread
/// writes at a time.
/// </summary>
/// <remarks>
/// <para>
/// Writing <c>n</c> bytes at position <c>w</c> overwrites the bytes at <c>[w - Capacity, w + n - Capacity)</c>, so the
/// writer first raises the ring's tail over them: under <see cref="SlowReaderPolicy.Block"/> only up to the slowest
/// live reader's pin, then it copies the bytes and publishes them with one release store of its position. Every write
/// path checks first that this process still holds the lease.
/// </para>
/// <para>
/// <see cref="Dispose"/> releases the lease but does not end the stream, so another process can claim the writer
/// and continue; call <see cref="Complete"/> to end it. The adaptors differ on purpose: disposing the
/// <see cref="AsStream"/> stream or completing the <see cref="AsPipeWriter"/> pipe writer completes the stream,
/// because that is what those APIs mean to their callers.
/// </para>
/// </remarks>
public sealed class RingWriter : IDisposable
{
    /// <summary>The default most a single <see cref="ReadFrom"/> call reserves: the default pipe buffer on Linux.</summary>
    public const int DefaultReadFromLength = RingProducer.DefaultReadFromLength;

    private readonly RingProducer _core;

    internal RingWriter(RingProducer core) => _core = core;

    /// <summary>The position the next byte is written at: the number of bytes ever written to the ring.</summary>
    public long Position => _core.Position;

    /// <summary>Data bytes in the ring.</summary>
    public int Capacity => _core.Capacity;

    /// <summary>Whether the stream was completed (by this writer or an earlier one).</summary>
    public bool IsCompleted => _core.IsCompleted;

    /// <summary>
    /// How the writer's blocking waits for space idle under <see cref="SlowReaderPolicy.Block"/>
    /// (<see cref="WaitForSpace(TimeSpan)"/>, the Stream, <see cref="ReadFrom"/>). Default
    /// <see cref="IdleStrategy.Blocking"/>. Async waits never spin: they sleep on the handle's dispatcher thread.
    /// </summary>
    public IdleStrategy IdleStrategy
    {
        get => _core.IdleStrategy;
        set => _core.IdleStrategy = value;
    }

    /// <summary>
    /// Writes as much of <paramref name="data"/> as fits now, without waiting, and returns how many bytes that was.
    /// With no live reader (or under <see cref="SlowReaderPolicy.Evict"/>) everything is written, overwriting the
    /// oldest bytes.
    /// </summary>
    /// <exception cref="InvalidOperationException">The stream was completed.</exception>
    /// <exception cref="SharedLogException">This process no longer holds the writer lease.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Write(ReadOnlySpan<byte> data) => _core.Write(data);

    /// <summary>Writes all of <paramref name="data"/>, waiting for slow readers as the policy says.</summary>
    /// <exception cref="OperationCanceledException">Cancelled; the bytes written before stay written (see <see cref="Position"/>).</exception>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => _core.WriteAsync(data, cancellationToken);

    /// <summary>
    /// Hands out all the free space as up to two spans (the second starts at the beginning of the data) and returns
    /// its total length. Write into them, then call <see cref="Advance"/>.
    /// </summary>
    /// <remarks>
    /// Free space handed out counts as overwritten at once (readers can no longer seek to the bytes it held), so with
    /// no live reader this gives up the whole history; use <see cref="GetWriteSpans(int, out Span{byte}, out Span{byte})"/>
    /// to reserve only what is needed.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetWriteSpans(out Span<byte> first, out Span<byte> second) => _core.GetWriteSpans(int.MaxValue, out first, out second);

    /// <summary>Hands out at most <paramref name="maxLength"/> bytes of free space as up to two spans; returns their total length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int GetWriteSpans(int maxLength, out Span<byte> first, out Span<byte> second) => _core.GetWriteSpans(maxLength, out first, out second);

    /// <summary>
    /// Like <see cref="GetWriteSpans(int, out Span{byte}, out Span{byte})"/>, as <see cref="Memory{T}"/> for APIs such
    /// as <c>RandomAccess.Read(handle, IReadOnlyList&lt;Memory&lt;byte&gt;&gt;, offset)</c>. Valid until the next call
    /// on this writer.
    /// </summary>
    public int GetWriteMemory(out Memory<byte> first, out Memory<byte> second, int maxLength = int.MaxValue)
        => _core.GetWriteMemory(out first, out second, maxLength);

    /// <summary>Publishes <paramref name="count"/> bytes written into the space last handed out.</summary>
    /// <exception cref="ArgumentOutOfRangeException">More than was handed out.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Advance(int count) => _core.Advance(count);

    /// <summary>
    /// Fills free space from a Unix file descriptor (a pipe, socket or file) with one <c>readv</c>, waiting for space
    /// first if slow readers hold it. Blocks as the descriptor does. Returns the bytes read; 0 means end of file.
    /// </summary>
    /// <param name="source">An open descriptor, e.g. a <c>SafeFileHandle</c> or <c>SafePipeHandle</c>.</param>
    /// <param name="maxLength">The most to read in this call; only this much free space is reserved.</param>
    /// <exception cref="PlatformNotSupportedException">On Windows.</exception>
    /// <exception cref="IOException"><c>readv</c> failed.</exception>
    public int ReadFrom(SafeHandle source, int maxLength = DefaultReadFromLength) => _core.ReadFrom(source, maxLength);

    /// <summary>
    /// Ends the stream at <see cref="Position"/>: readers drain what is left, then read 0. Idempotent. Writing after
    /// it is an <see cref="InvalidOperationException"/>.
    /// </summary>
    public void Complete() => _core.Complete();

    /// <summary>
    /// Waits until some space is free: for the slowest live reader to move, or — after the slow-reader timeout under
    /// <see cref="SlowReaderPolicy.Block"/> — by evicting it. Completes at once when space is free already. No thread
    /// is held while it waits, and steady-state waits allocate nothing.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed while waiting.</exception>
    public ValueTask WaitForSpaceAsync(CancellationToken cancellationToken = default) => _core.WaitForSpaceAsync(cancellationToken);

    /// <summary>Blocks until some space is free (see <see cref="WaitForSpaceAsync"/>), idling by <see cref="IdleStrategy"/>; false on timeout.</summary>
    /// <exception cref="ObjectDisposedException">The writer was disposed while waiting.</exception>
    public bool WaitForSpace(TimeSpan timeout) => _core.WaitForSpace(timeout);

    /// <summary>A write-only <see cref="Stream"/> that waits for space; disposing it completes the ring's stream.</summary>
    public Stream AsStream() => _core.AsStream();

    /// <summary>
    /// A <see cref="PipeWriter"/> over the ring: <c>GetMemory</c> hands out ring memory when enough is contiguous (zero
    /// copy), a buffer otherwise; <c>FlushAsync</c> waits for space; <c>Complete</c> completes the ring's stream.
    /// </summary>
    public PipeWriter AsPipeWriter() => _core.AsPipeWriter();

    /// <summary>Releases the writer lease without completing the stream; any process may then claim the writer and continue.</summary>
    public void Dispose() => _core.Dispose();
}
