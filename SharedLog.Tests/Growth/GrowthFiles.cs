using System.Buffers.Binary;
using SharedLog.Layout;

namespace SharedLog.Tests.Growth;

/// <summary>Options and raw file access for logs under <see cref="LogRetention.Unbounded"/>.</summary>
internal static class GrowthFiles
{
    /// <summary>Small segments sealed by count or bytes, so extents fill (and the file grows) after few records.</summary>
    public static SegmentedLogOptions Options(string directory, long maxBytes = 64L << 20, int segmentCapacity = 16, int segmentBytes = 2048)
        => new()
        {
            Retention = LogRetention.Unbounded,
            MaxBytes = maxBytes,
            SegmentCapacity = segmentCapacity,
            SegmentBytes = segmentBytes,
            MaxReaders = 8,
            Directory = directory,
        };

    /// <summary>The length the documentation promises for <paramref name="extents"/> extents: header, then <c>2^extents - 1</c> segment slots.</summary>
    public static long ExpectedLength(SegmentedLog log, int extents)
        => log.File.DataOffset + (((1L << extents) - 1) * log.File.SlotStride);

    /// <summary>Where generation <paramref name="generation"/> lives in the file: never moves.</summary>
    public static long SlotOffset(SegmentedLog log, long generation) => log.File.DataOffset + (generation * log.File.SlotStride);

    public static long ReadInt64(string path, long offset)
    {
        Span<byte> bytes = stackalloc byte[8];
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        RandomAccess.Read(handle, bytes, offset);
        return BinaryPrimitives.ReadInt64LittleEndian(bytes);
    }

    public static void WriteInt64(string path, long offset, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        RandomAccess.Write(handle, bytes, offset);
    }

    public static long ExtentCount(string path) => ReadInt64(path, LogLayout.ExtentCountOffset);

    public static void SetLength(string path, long length)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        RandomAccess.SetLength(handle, length);
    }
}
