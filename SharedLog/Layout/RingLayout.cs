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
///  +---------------------------------------------------------------+  hot line 0 (writer; readers poll it)
///  |  Writer Position (8): end of published data. Release after    |  256
///  |  the data; readers acquire it before reading the data.        |
///  +---------------------------------------------------------------+
///  |  Tail Position (8): oldest byte that may still be intact.     |  264
///  |  Raised with a full fence before the writer overwrites;       |
///  |  readers re-read it after copying (seqlock validation).       |
///  +---------------------------------------------------------------+
///  |  Tail Intent (8): the tail the writer is about to raise to.   |  272
///  |  Release + full fence, then the writer reads Join Sequence;   |
///  |  joining readers pin at or above it (Dekker handshake).       |
///  +---------------------------------------------------------------+
///  |  Completed Position (8): -1 while open, else the final        |  280
///  |  writer position (release, written once by Complete).         |
///  +---------------------------------------------------------------+  hot line 1 (writer on rescans; readers on joins)
///  |  Cached Min Reader Position (8): slowest live pin at the      |  384
///  |  writer's last scan of the reader table; NoPin when none.     |
///  +---------------------------------------------------------------+
///  |  Join Sequence (8): incremented (interlocked) by a reader     |  392
///  |  after it pins a position the writer may not know about:      |
///  |  creation, a backward Seek, re-arming after eviction.         |
///  +---------------------------------------------------------------+
/// </code>
/// Invariants, in every state a crash can leave: <c>Writer Position - Capacity &lt;= Tail &lt;= Tail Intent &lt;=
/// Writer Position</c>, and a Completed Position, once set, equals the final Writer Position. Bytes at positions
/// below Tail may be overwritten at any time; bytes in <c>[Tail, Writer Position)</c> are intact until Tail passes
/// them. The writer raises Tail only up to the slowest live reader's pin under <see cref="SlowReaderPolicy.Block"/>.
/// </remarks>
internal static class RingLayout
{
    public const int CapacityOffset = 56;

    public const int WriterPositionOffset = 256;
    public const int TailPositionOffset = 264;
    public const int TailIntentOffset = 272;
    public const int CompletedPositionOffset = 280;

    public const int CachedMinReaderPositionOffset = 384;
    public const int JoinSequenceOffset = 392;

    /// <summary>Completed Position of a stream that is still open.</summary>
    public const long NotCompleted = -1;

    public const int MinCapacity = 16;
    public const int MaxCapacity = 1 << 30;

    /// <summary>Positions beyond this are corrupt: at 10 GB/s it takes more than 14 years to get there.</summary>
    public const long MaxPosition = 1L << 62;
}
