namespace SharedLog.Layout;

/// <summary>
/// The file header shared by every SharedLog file (log and ring): identity, the writer lease, hot counters and
/// futex words, each group on its own 128-byte line, followed by the reader table.
/// </summary>
/// <remarks><code>
///   0                   1                   2                   3
///   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///  +---------------------------------------------------------------+  line 0: identity, written once by the creator
///  |                     Magic "SHLOGv01" (8 bytes)                |  0
///  +---------------------------------------------------------------+
///  |                     Layout Version                            |  8
///  +---------------------------------------------------------------+
///  |                     Kind (1 = log, 2 = ring)                  |  12
///  +---------------------------------------------------------------+
///  |                     File Length (8 bytes)                     |  16
///  +---------------------------------------------------------------+
///  |                     Reader Table Offset                       |  24
///  +---------------------------------------------------------------+
///  |                     Max Readers                               |  28
///  +---------------------------------------------------------------+
///  |                     Data Offset (8 bytes)                     |  32
///  +---------------------------------------------------------------+
///  |                     Slow Reader Policy                        |  40
///  +---------------------------------------------------------------+
///  |                     Slow Reader Timeout ms                    |  44
///  +---------------------------------------------------------------+
///  |                     Created, Unix ms (8 bytes)                |  48
///  +---------------------------------------------------------------+
///  |          kind-specific parameters (LogLayout / RingLayout)    |  56..111
///  +---------------------------------------------------------------+
///  |                     File Id (8 bytes, random, set at create)  |  112
///  +---------------------------------------------------------------+
///  |                     Header Checksum, FNV-1a of 0..119 (8)     |  120
///  +---------------------------------------------------------------+  line 1: writer lease (an OwnerLayout block)
///  |                     Writer Owner block                        |  128
///  +---------------------------------------------------------------+  line 2: writer-hot counters (kind-specific)
///  |                     ...                                       |  256
///  +---------------------------------------------------------------+  line 3: second writer-hot line (kind-specific)
///  |                     ...                                       |  384
///  +---------------------------------------------------------------+  line 4: data futex word + need-wakeup flag
///  |                     Data Signal | Data Waiters                |  512
///  +---------------------------------------------------------------+  line 5: space futex word + need-wakeup flag
///  |                     Space Signal | Space Waiters              |  640
///  +---------------------------------------------------------------+
///  |                     Reader table: MaxReaders x 128 bytes      |  768
///  +---------------------------------------------------------------+
/// </code>
/// Identity fields are written by the creator before the file is linked under its name, so an opener never sees
/// a half-initialised header.
/// </remarks>
internal static class FileLayout
{
    public const ulong Magic = 0x3130764F474C4853; // "SHLOGv01" little-endian
    public const int CurrentVersion = 2;
    public const int KindLog = 1;
    public const int KindRing = 2;

    public const int LineLength = 128;

    public const int MagicOffset = 0;
    public const int VersionOffset = 8;
    public const int KindOffset = 12;
    public const int FileLengthOffset = 16;
    public const int ReaderTableOffsetOffset = 24;
    public const int MaxReadersOffset = 28;
    public const int DataOffsetOffset = 32;
    public const int PolicyOffset = 40;
    public const int SlowReaderTimeoutMsOffset = 44;
    public const int CreatedOffset = 48;
    public const int KindParametersOffset = 56;
    /// <summary>
    /// A random nonzero number chosen when the file is created: a reader compares it with the file now under the same
    /// name to learn that its file was deleted and created anew. 0 in files made before it existed.
    /// </summary>
    public const int FileIdOffset = 112;
    public const int ChecksumOffset = 120;
    public const int ChecksummedLength = 120;

    /// <summary>The writer lease, an <see cref="OwnerLayout"/> block.</summary>
    public const int WriterOwnerOffset = 128;

    /// <summary>First writer-hot line; its fields are defined by the kind.</summary>
    public const int HotLine0Offset = 256;

    /// <summary>Second writer-hot line; its fields are defined by the kind.</summary>
    public const int HotLine1Offset = 384;

    /// <summary>Futex word readers sleep on; bumped by the writer when it publishes data and the need-wakeup flag is set (see <c>Waiting.Signal</c>).</summary>
    public const int DataSignalOffset = 512;

    /// <summary>Need-wakeup flag of <see cref="DataSignalOffset"/>: set to 1 (exchange) by a reader about to sleep, cleared by the writer when it wakes them.</summary>
    public const int DataWaitersOffset = 516;

    /// <summary>Futex word the writer sleeps on when it waits for space; bumped by readers that move or drop a pin while the flag is set.</summary>
    public const int SpaceSignalOffset = 640;

    /// <summary>Need-wakeup flag of <see cref="SpaceSignalOffset"/>: set by the writer about to sleep, cleared by the reader that wakes it.</summary>
    public const int SpaceWaitersOffset = 644;

    public const int ReaderTableOffset = 768;
    public const int HeaderLength = ReaderTableOffset;

    public const int MaxReadersLimit = 4096;

    /// <summary>The largest file any options may describe (1 TiB).</summary>
    public const long MaxFileLength = 1L << 40;
    public const int DataAlignment = 4096;
}

/// <summary>
/// An ownership block: the writer lease and the head of each reader slot. The owner word changes only by
/// compare-and-swap, so exactly one process wins a claim.
/// </summary>
/// <remarks><code>
///   0                   1                   2                   3
///   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///  +---------------------------------------------------------------+
///  |  Owner Word: Pid (low 32) | Epoch (high 32)   CAS by claimers  |  0
///  +---------------------------------------------------------------+
///  |  Process Start Time (owner; valid when Identity Epoch = Epoch) |  8
///  +---------------------------------------------------------------+
///  |  Pid Namespace inode (owner)                                  |  16
///  +---------------------------------------------------------------+
///  |  Identity Epoch (owner, release after the two fields above)   |  24
///  +---------------------------------------------------------------+
///  |  Heartbeat, monotonic ms (owner's heartbeat timer)            |  32
///  +---------------------------------------------------------------+
/// </code>
/// A pid of 0 means free. Releasing keeps the epoch; the next claim increments it, so a stale owner's word never
/// matches a new owner's.
/// </remarks>
internal static class OwnerLayout
{
    public const int OwnerWordOffset = 0;
    public const int StartTimeOffset = 8;
    public const int PidNamespaceOffset = 16;
    public const int IdentityEpochOffset = 24;
    public const int HeartbeatOffset = 32;
    public const int Length = 40;
}

/// <summary>One 128-byte reader slot in the reader table. Starts with an <see cref="OwnerLayout"/> block.</summary>
/// <remarks><code>
///   0                   1                   2                   3
///   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///  +---------------------------------------------------------------+
///  |  Owner block (OwnerLayout, 40 bytes)                          |  0
///  +---------------------------------------------------------------+
///  |  State: 0 idle, 1 active, 2 evicted (CAS: reader, writer)     |  40
///  +---------------------------------------------------------------+
///  |  Role: 1 reader, 2 snapshot, 3 record leases (informational)  |  44
///  +---------------------------------------------------------------+
///  |  Pin: oldest generation / position it may touch (reader)     |  48
///  +---------------------------------------------------------------+
///  |  Lost Count: records or bytes lost so far (reader)           |  56
///  +---------------------------------------------------------------+
///  |  Evictions: times the writer evicted this slot (writer)       |  64
///  +---------------------------------------------------------------+
///  |  Position: next sequence (log) or byte position (ring) the    |  72
///  |  reader reads; release by the reader, for status only         |
///  +---------------------------------------------------------------+
/// </code></remarks>
internal static class ReaderSlotLayout
{
    public const int OwnerOffset = 0;
    public const int StateOffset = 40;
    public const int RoleOffset = 44;
    public const int PinOffset = 48;
    public const int LostCountOffset = 56;
    public const int EvictionsOffset = 64;
    public const int PositionOffset = 72;
    public const int Length = 128;

    public const int StateIdle = 0;
    public const int StateActive = 1;
    public const int StateEvicted = 2;

    public const int RoleReader = 1;
    public const int RoleSnapshot = 2;
    public const int RoleLease = 3;

    /// <summary>The pin of a slot that protects nothing.</summary>
    public const long NoPin = long.MaxValue;
}
