namespace SharedLog.Layout;

/// <summary>
/// The byte ring's parameters and hot counters. The data is <c>Capacity</c> bytes (a power of two) at the file's
/// data offset; the byte at 64-bit position <c>p</c> lives at index <c>p &amp; (Capacity - 1)</c>.
/// </summary>
/// <remarks><code>
///   0                   1                   2                   3
///   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///  +---------------------------------------------------------------+  in line 0 of FileLayout (written once)
///  |                     Capacity (8 bytes, a power of two)        |  56
///  +---------------------------------------------------------------+  hot line 0 (writer on every write; readers poll it)
///  |  Writer Position (8): end of published data. Release after    |  256
///  |  the data; readers acquire it before reading the data.        |
///  +---------------------------------------------------------------+
///  |  (16 bytes unused)                                            |  264
///  +---------------------------------------------------------------+
///  |  Completed Position (8): -1 while open, else the final        |  280
///  |  writer position (release, written once by Complete).         |
///  +---------------------------------------------------------------+  hot line 1 (writer once per tail chunk and
///  |  Cached Min Reader Position (8): slowest live pin at the      |  384   on rescans; readers on joins)
///  |  writer's last scan of the reader table; NoPin when none.     |
///  +---------------------------------------------------------------+
///  |  Join Sequence (8): incremented (interlocked) by a reader     |  392
///  |  after it pins a position the writer may not know about:      |
///  |  creation, a backward Seek, re-arming after eviction.         |
///  +---------------------------------------------------------------+
///  |  Tail Position (8): oldest byte that may still be intact.     |  400
///  |  Raised (release, then a store fence) before the writer       |
///  |  overwrites; readers re-read it after copying (seqlock).      |
///  +---------------------------------------------------------------+
///  |  Tail Intent (8): the tail the writer is about to raise to.   |  408
///  |  Exchange (full fence), then the writer reads Join Sequence;  |
///  |  joining readers pin at or above it (Dekker handshake).       |
///  +---------------------------------------------------------------+
/// </code>
/// <para>
/// Invariants, in every state a crash can leave: <c>Writer Position - Capacity &lt;= Tail &lt;= Tail Intent &lt;=
/// Writer Position</c>, and a Completed Position, once set, equals the final Writer Position. Bytes at positions
/// below Tail may be overwritten at any time; bytes in <c>[Tail, Writer Position)</c> are intact until Tail passes
/// them. The writer raises Tail only up to the slowest live reader's pin under <see cref="SlowReaderPolicy.Block"/>.
/// </para>
/// <para>
/// Tail and Tail Intent live apart from Writer Position because the writer raises them in chunks of
/// <see cref="TailChunk"/> bytes, not on every write: a reader's seqlock re-read of Tail then hits its own cache, and
/// the only line that crosses cores per write is Writer Position's (as in a minimal single-producer ring).
/// </para>
/// </remarks>
internal static class RingLayout
{
    public const int CapacityOffset = 56;

    public const int WriterPositionOffset = 256;
    public const int CompletedPositionOffset = 280;

    public const int CachedMinReaderPositionOffset = 384;
    public const int JoinSequenceOffset = 392;
    public const int TailPositionOffset = 400;
    public const int TailIntentOffset = 408;

    /// <summary>The largest step the writer raises the tail by ahead of what a write needs.</summary>
    public const int MaxTailChunk = 64 << 10;

    /// <summary>Completed Position of a stream that is still open.</summary>
    public const long NotCompleted = -1;

    public const int MinCapacity = 16;
    public const int MaxCapacity = 1 << 30;

    /// <summary>
    /// How far ahead the writer raises the tail: to the next multiple of this above what a write needs (capped by the
    /// writer position and, under <see cref="SlowReaderPolicy.Block"/>, by the slowest pin). 1/64 of the capacity, at
    /// most <see cref="MaxTailChunk"/>: the retained window is at least <c>Capacity - TailChunk</c> bytes.
    /// </summary>
    public static int TailChunk(int capacity) => Math.Clamp(capacity >> 6, 1, MaxTailChunk);

    /// <summary>Positions beyond this are corrupt: at 10 GB/s it takes more than 14 years to get there.</summary>
    public const long MaxPosition = 1L << 62;
}
