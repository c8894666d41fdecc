using System.Runtime.InteropServices;
using SharedLog.Layout;
using SharedLog.Memory;

namespace SharedLog.Files;

/// <summary>
/// The fields every SharedLog file shares (identity, reader table, policy, where the data starts, the file's length),
/// planned from options, written by the creator, and read back and checked by every open before any pointer escapes.
/// The kind's own parameters sit in the same checksummed line (see <see cref="IKindParameters{TSelf}"/>).
/// </summary>
internal readonly record struct FileHeader(int Kind, int MaxReaders, SlowReaderPolicy Policy, int SlowReaderTimeoutMs, long DataOffset, long FileLength, long FileId)
{
    public TimeSpan SlowReaderTimeout => TimeSpan.FromMilliseconds(SlowReaderTimeoutMs);

    /// <summary>Where the data of a file with <paramref name="maxReaders"/> reader slots starts.</summary>
    public static long DataOffsetFor(int maxReaders)
        => AlignUp(FileLayout.ReaderTableOffset + ((long)maxReaders * ReaderSlotLayout.Length), FileLayout.DataAlignment);

    public static long AlignUp(long value, long alignment) => (value + alignment - 1) & ~(alignment - 1);

    /// <summary>The header for options; throws <see cref="ArgumentOutOfRangeException"/> naming the option that is out of range.</summary>
    public static FileHeader Plan(int kind, int maxReaders, SlowReaderPolicy policy, TimeSpan slowReaderTimeout, long dataLength)
    {
        var check = ParameterCheck.ForOptions;
        CheckCommon(check, maxReaders, (int)policy);
        if (slowReaderTimeout < TimeSpan.Zero || slowReaderTimeout.TotalMilliseconds > int.MaxValue)
        {
#pragma warning disable CA2208 // The argument at fault is the caller's "options"; the message names the option.
            throw new ArgumentOutOfRangeException("options", $"SlowReaderTimeout must be between zero and {int.MaxValue} ms (about 24 days); got {slowReaderTimeout}.");
#pragma warning restore CA2208
        }

        long dataOffset = DataOffsetFor(maxReaders);
        if (dataLength > FileLayout.MaxFileLength - dataOffset)
        {
#pragma warning disable CA2208 // As above.
            throw new ArgumentOutOfRangeException("options", $"These options need a {dataOffset + dataLength}-byte file, more than {FileLayout.MaxFileLength} bytes.");
#pragma warning restore CA2208
        }

        long fileId;
        do
        {
            fileId = Random.Shared.NextInt64();
        }
        while (fileId == 0);

        return new FileHeader(kind, maxReaders, policy, (int)slowReaderTimeout.TotalMilliseconds, dataOffset, dataOffset + dataLength, fileId);
    }

    /// <summary>Writes the identity and the common fields. The creator writes the kind's parameters, then <see cref="Seal"/>.</summary>
    public unsafe void Write(byte* b)
    {
        *(ulong*)(b + FileLayout.MagicOffset) = FileLayout.Magic;
        *(int*)(b + FileLayout.VersionOffset) = FileLayout.CurrentVersion;
        *(int*)(b + FileLayout.KindOffset) = Kind;
        *(long*)(b + FileLayout.FileLengthOffset) = FileLength;
        *(int*)(b + FileLayout.ReaderTableOffsetOffset) = FileLayout.ReaderTableOffset;
        *(int*)(b + FileLayout.MaxReadersOffset) = MaxReaders;
        *(long*)(b + FileLayout.DataOffsetOffset) = DataOffset;
        *(int*)(b + FileLayout.PolicyOffset) = (int)Policy;
        *(int*)(b + FileLayout.SlowReaderTimeoutMsOffset) = SlowReaderTimeoutMs;
        *(long*)(b + FileLayout.CreatedOffset) = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        *(long*)(b + FileLayout.FileIdOffset) = FileId;
    }

    /// <summary>The file id of a header at <paramref name="b"/> (0 for files made before it existed).</summary>
    public static unsafe long ReadFileId(byte* b) => *(long*)(b + FileLayout.FileIdOffset);

    /// <summary>Writes the checksum over the identity line; nothing in it changes afterwards.</summary>
    public static unsafe void Seal(byte* b) => *(ulong*)(b + FileLayout.ChecksumOffset) = Checksum(b);

    /// <summary>
    /// Reads and checks magic, version, checksum, kind and the common fields of a mapped file, in that order, so the
    /// first problem named is the most basic one. The file's length is checked against the header here; the kind's
    /// parameters are checked by the kind.
    /// </summary>
    public static unsafe FileHeader Read(MappedRegion region, int expectedKind, string expectedName)
    {
        byte* b = region.Base;
        string path = region.FilePath;
        int kind = ReadIdentity(new ReadOnlySpan<byte>(b, FileLayout.LineLength), path);
        if (kind != expectedKind)
        {
            throw new SharedLogFormatException($"'{path}' is {KindName(kind)}, not a {expectedName}. Open it with the matching type.");
        }

        var check = ParameterCheck.ForFile(path);
        int maxReaders = *(int*)(b + FileLayout.MaxReadersOffset);
        int policy = *(int*)(b + FileLayout.PolicyOffset);
        int timeoutMs = *(int*)(b + FileLayout.SlowReaderTimeoutMsOffset);
        CheckCommon(check, maxReaders, policy);
        check.Require(timeoutMs >= 0, "SlowReaderTimeoutMs", timeoutMs, "zero or more");
        int tableOffset = *(int*)(b + FileLayout.ReaderTableOffsetOffset);
        check.Require(tableOffset == FileLayout.ReaderTableOffset, "ReaderTableOffset", tableOffset, $"{FileLayout.ReaderTableOffset}");
        long dataOffset = *(long*)(b + FileLayout.DataOffsetOffset);
        check.Require(dataOffset == DataOffsetFor(maxReaders), "DataOffset", dataOffset, $"{DataOffsetFor(maxReaders)} for MaxReaders {maxReaders}");
        long fileLength = *(long*)(b + FileLayout.FileLengthOffset);
        check.Require(fileLength >= dataOffset && fileLength <= FileLayout.MaxFileLength, "FileLength", fileLength, $"{dataOffset} to {FileLayout.MaxFileLength}");
        if (region.Length < fileLength)
        {
            // Longer is checked by the kind, whose file may grow (SharedFile.Open).
            throw LengthMismatch(path, region.Length, fileLength);
        }

        return new FileHeader(kind, maxReaders, (SlowReaderPolicy)policy, timeoutMs, dataOffset, fileLength, ReadFileId(b));
    }

    /// <summary>The error for a file whose length is not the one its header describes.</summary>
    public static SharedLogFormatException LengthMismatch(string path, long length, long described)
        => new($"'{path}' is {length} bytes long but its header describes {described} bytes: it was truncated or extended. Delete it and create it again.");

    /// <summary>
    /// Reads the kind and length of the file at <paramref name="path"/> from its header with a plain read (no mapping),
    /// after the same identity checks as <see cref="Read"/>: magic, version, checksum, a known kind, and a length that
    /// matches the header's.
    /// </summary>
    /// <exception cref="SharedLogException">The file does not exist or cannot be read.</exception>
    /// <exception cref="SharedLogFormatException">The file is not a SharedLog file of a known kind and layout.</exception>
    public static (int Kind, long Length) Probe(string path)
    {
        Span<byte> line = stackalloc byte[FileLayout.LineLength];
        long length = FileStore.ReadHeader(path, line, FileLayout.HeaderLength);
        int kind = ReadIdentity(line, path);
        if (kind is not (FileLayout.KindLog or FileLayout.KindRing))
        {
            throw new SharedLogFormatException($"'{path}' is a SharedLog file {KindName(kind)}, which this library does not know.");
        }

        long fileLength = MemoryMarshal.Read<long>(line[FileLayout.FileLengthOffset..]);
        // An unbounded log grows past the length it was created with (its header's length is the initial one).
        bool mayGrow = kind == FileLayout.KindLog && MemoryMarshal.Read<int>(line[LogLayout.RetentionOffset..]) == LogLayout.RetentionUnbounded;
        if (mayGrow ? length < fileLength : length != fileLength)
        {
            throw LengthMismatch(path, length, fileLength);
        }

        return (kind, length);
    }

    /// <summary>For open-or-create: throws <see cref="ArgumentException"/> naming the first common field the options contradict.</summary>
    public void ThrowIfContradicts(string kindName, string path, int maxReaders, SlowReaderPolicy policy, TimeSpan slowReaderTimeout)
    {
        ParameterCheck.ThrowIfContradicts(kindName, path, "MaxReaders", MaxReaders, maxReaders);
        ParameterCheck.ThrowIfContradicts(kindName, path, "SlowReaderPolicy", (long)Policy, (long)policy);
        ParameterCheck.ThrowIfContradicts(kindName, path, "SlowReaderTimeout (ms)", SlowReaderTimeoutMs, (long)slowReaderTimeout.TotalMilliseconds);
    }

    /// <summary>FNV-1a over the identity line.</summary>
    public static unsafe ulong Checksum(byte* header) => Checksum(new ReadOnlySpan<byte>(header, FileLayout.ChecksummedLength));

    /// <summary>FNV-1a over the identity line.</summary>
    public static ulong Checksum(ReadOnlySpan<byte> header)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in header[..FileLayout.ChecksummedLength])
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }

    /// <summary>
    /// Checks magic, version and checksum of an identity line, in that order, so the first problem named is the most
    /// basic one, and returns the kind it names.
    /// </summary>
    private static int ReadIdentity(ReadOnlySpan<byte> line, string path)
    {
        if (MemoryMarshal.Read<ulong>(line[FileLayout.MagicOffset..]) != FileLayout.Magic)
        {
            throw new SharedLogFormatException($"'{path}' is not a SharedLog file (wrong magic number). Check the name, or delete the file and create it again.");
        }

        int version = MemoryMarshal.Read<int>(line[FileLayout.VersionOffset..]);
        if (version != FileLayout.CurrentVersion)
        {
            throw new SharedLogFormatException(
                $"'{path}' has layout version {version}; this library reads version {FileLayout.CurrentVersion}. Use the same SharedLog version in every process, or recreate the file.");
        }

        if (MemoryMarshal.Read<ulong>(line[FileLayout.ChecksumOffset..]) != Checksum(line))
        {
            throw new SharedLogFormatException($"'{path}' has a corrupt header (checksum mismatch). Delete it and create it again.");
        }

        return MemoryMarshal.Read<int>(line[FileLayout.KindOffset..]);
    }

    private static string KindName(int kind) => kind switch
    {
        FileLayout.KindLog => "a segmented log",
        FileLayout.KindRing => "a byte ring",
        _ => $"of unknown kind {kind}",
    };

    private static void CheckCommon(ParameterCheck check, int maxReaders, int policy)
    {
        check.InRange(maxReaders, 1, FileLayout.MaxReadersLimit, "MaxReaders");
        check.Require(policy is (int)SlowReaderPolicy.Block or (int)SlowReaderPolicy.Evict, "SlowReaderPolicy", policy, "Block (0) or Evict (1)");
    }
}
