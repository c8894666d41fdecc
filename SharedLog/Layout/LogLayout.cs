namespace SharedLog.Layout;

/// <summary>
/// The segmented log's parameters, hot counters and segment slots. Under <c>Window</c> retention slot
/// <c>g % SlotCount</c> holds generation <c>g</c>; readers pin a suffix of generations, so the oldest slot is always
/// the first to become free. Under <c>Unbounded</c> retention generation <c>g</c> lives at
/// <c>DataOffset + g x SlotStride</c> for ever: the file grows by extents, extent <c>e</c> holding <c>2^e</c>
/// segments (generations <c>2^e - 1</c> to <c>2^(e+1) - 2</c>), so <c>n</c> extents span <c>2^n - 1</c> segments.
/// </summary>
/// <remarks><code>
///   0                   1                   2                   3
///   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///  +---------------------------------------------------------------+  in line 0 of FileLayout (written once)
///  |                     Segment Capacity (records)                |  56
///  +---------------------------------------------------------------+
///  |                     Segment Bytes (data per segment)          |  60
///  +---------------------------------------------------------------+
///  |                     Slot Count                                |  64
///  +---------------------------------------------------------------+
///  |                     Spare Segments                            |  68
///  +---------------------------------------------------------------+
///  |                     Retained Capacity (8 bytes)               |  72
///  +---------------------------------------------------------------+
///  |                     Slot Stride (8 bytes)                     |  80
///  +---------------------------------------------------------------+
///  |                     Retained Segments                         |  88
///  +---------------------------------------------------------------+
///  |                     Retention (0 Window, 1 Unbounded)         |  92
///  +---------------------------------------------------------------+
///  |                     Max Bytes (8; the growth limit, Unbounded) |  96
///  +---------------------------------------------------------------+  hot line 0 (writer, release)
///  |                     Head Generation (8 bytes)                 |  256
///  +---------------------------------------------------------------+
///  |                     Oldest Generation (8 bytes)               |  264
///  +---------------------------------------------------------------+
///  |  Completed Sequence (8): 0 while open, else the final next     |  272
///  |  sequence + 1 (release, after the last record's count)        |
///  +---------------------------------------------------------------+
///  |  Extent Count (8; Unbounded): extents allocated and usable    |  280
///  |  (release, after the space is reserved; before a new head)    |
///  +---------------------------------------------------------------+
/// </code>
/// Head Generation is published (release) after the new head slot is initialised; readers acquire it before
/// touching that slot. Oldest Generation is raised (release, then a full fence) before the writer scans reader
/// pins to reuse a slot; a reader stores its pin, fences, and re-reads it (a Dekker handshake).
/// Extent Count only grows, by one, under <c>Unbounded</c>: the writer reserves the extent's blocks
/// (<c>posix_fallocate</c>), then publishes the count (release), then rolls into it; readers acquire the count before
/// they map an extent, and check it against the file's length. 0 under <c>Window</c> (the field is unused there).
/// </remarks>
internal static class LogLayout
{
    public const int SegmentCapacityOffset = 56;
    public const int SegmentBytesOffset = 60;
    public const int SlotCountOffset = 64;
    public const int SpareSegmentsOffset = 68;
    public const int RetainedCapacityOffset = 72;
    public const int SlotStrideOffset = 80;
    public const int RetainedSegmentsOffset = 88;
    public const int RetentionOffset = 92;
    public const int MaxBytesOffset = 96;

    public const int HeadGenerationOffset = 256;
    public const int OldestGenerationOffset = 264;
    public const int CompletedSequenceOffset = 272;
    public const int ExtentCountOffset = 280;

    public const int RetentionWindow = 0;
    public const int RetentionUnbounded = 1;

    /// <summary>At most this many extents (2^40 - 1 segments; <see cref="FileLayout.MaxFileLength"/> binds first).</summary>
    public const int MaxExtentCount = 40;

    /// <summary>Completed Sequence of a log that is still open (0, so files made before the field read as open).</summary>
    public const long NotCompleted = 0;

    public const int MaxSegmentCapacity = 1 << 24;
    public const int MaxSegmentBytes = 1 << 30;
    public const int MaxSlotCount = 1 << 16;
}

/// <summary>The header of a segment slot, followed by its record index and its data.</summary>
/// <remarks><code>
///   0                   1                   2                   3
///   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///  +---------------------------------------------------------------+  line 0: changes once per reuse
///  |  Generation (writer; -1 while the slot is being reused)       |  0
///  +---------------------------------------------------------------+
///  |  First Sequence (writer, before Generation is published)      |  8
///  +---------------------------------------------------------------+
///  |  reserved to 128                                              |  16
///  +---------------------------------------------------------------+  line 1: changes on every append
///  |  Record Count (writer, release after each record; readers     |  128
///  |  acquire it before reading index entries and records)         |
///  +---------------------------------------------------------------+
///  |  reserved to 256                                              |  132
///  +---------------------------------------------------------------+
///  |  Record Index: SegmentCapacity x int32 data offsets           |  256
///  +---------------------------------------------------------------+
///  |  Data: SegmentBytes, records 8-byte aligned                   |  IndexOffset + align128(4 x capacity)
///  +---------------------------------------------------------------+
/// </code>
/// The count has its own line: readers re-read the generation after every record (validation), and a generation
/// sharing the count's line would cost them a cache miss per record as the writer rewrites the count.
/// Seqlock rule: the writer sets Generation to -1 with a full fence before it overwrites anything in a reused slot,
/// so a reader that re-reads the generation after reading (load fence between) knows whether its bytes were intact.
/// </remarks>
internal static class SegmentLayout
{
    public const int GenerationOffset = 0;
    public const int FirstSequenceOffset = 8;
    public const int RecordCountOffset = 128;
    public const int HeaderLength = 256;
    public const int IndexOffset = HeaderLength;
    public const int IndexEntryLength = 4;

    public const long ReusingGeneration = -1;

    public static long DataOffset(int segmentCapacity) => IndexOffset + AlignUp((long)segmentCapacity * IndexEntryLength, 128);

    public static long Stride(int segmentCapacity, int segmentBytes) => AlignUp(DataOffset(segmentCapacity) + segmentBytes, 128);

    public static long AlignUp(long value, long alignment) => (value + alignment - 1) & ~(alignment - 1);
}

/// <summary>A record inside a segment's data: an 8-byte header and the payload, padded to 8 bytes.</summary>
/// <remarks><code>
///   0                   1                   2                   3
///   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///  +---------------------------------------------------------------+
///  |  Length = 8 + payload length (written last, release: commit) |  0
///  +---------------------------------------------------------------+
///  |  Type Id (user-defined)                                       |  4
///  +---------------------------------------------------------------+
///  |  Payload ... padded to a multiple of 8                        |  8
///  +---------------------------------------------------------------+
/// </code>
/// A length of 0 is "not committed". Before committing a record the writer zeroes the length word of the next
/// record position, so a recovering writer finds the end of committed records by scanning lengths.
/// </remarks>
internal static class RecordLayout
{
    public const int LengthOffset = 0;
    public const int TypeIdOffset = 4;
    public const int HeaderLength = 8;
    public const int Alignment = 8;

    public static int AlignedLength(int payloadLength) => (HeaderLength + payloadLength + Alignment - 1) & ~(Alignment - 1);
}
