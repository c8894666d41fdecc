using System.IO.MemoryMappedFiles;
using SharedLog.Layout;
using SharedLog.Leases;

namespace SharedLog.Tests.Infrastructure;

/// <summary>
/// Reads and writes fields of a log file through a second, safe mapping of it (a shared mapping of the same file sees
/// the same pages), so tests can build the exact state a process killed at some instant leaves behind, or corrupt a
/// file on purpose, without unsafe code.
/// </summary>
public sealed class FileFields : IDisposable
{
    /// <summary>A pid no process can have: Linux caps pid_max at 2^22.</summary>
    public const int DeadPid = 1 << 30;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;

    public FileFields(SegmentedLog log)
        : this(log.FilePath, log.File.DataOffset, log.File.SlotStride, log.File.SlotCount, log.File.SegmentDataOffset)
    {
    }

    private FileFields(string path, long dataOffset, long slotStride, int slotCount, long segmentDataOffset)
    {
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.ReadWrite);
        DataOffset = dataOffset;
        SlotStride = slotStride;
        SlotCount = slotCount;
        SegmentDataOffset = segmentDataOffset;
    }

    public long DataOffset { get; }

    public long SlotStride { get; }

    public int SlotCount { get; }

    public long SegmentDataOffset { get; }

    public long Head
    {
        get => _view.ReadInt64(LogLayout.HeadGenerationOffset);
        set => _view.Write(LogLayout.HeadGenerationOffset, value);
    }

    public long Oldest
    {
        get => _view.ReadInt64(LogLayout.OldestGenerationOffset);
        set => _view.Write(LogLayout.OldestGenerationOffset, value);
    }

    public long ReadInt64(long offset) => _view.ReadInt64(offset);

    public int ReadInt32(long offset) => _view.ReadInt32(offset);

    public void Write(long offset, long value) => _view.Write(offset, value);

    public void Write(long offset, int value) => _view.Write(offset, value);

    public void Write(long offset, ReadOnlySpan<byte> bytes) => _view.WriteArray(offset, bytes.ToArray(), 0, bytes.Length);

    /// <summary>The file offset of the slot that holds <paramref name="generation"/>.</summary>
    public long SlotOffset(long generation) => DataOffset + ((generation % SlotCount) * SlotStride);

    public long GenerationAt(long generation) => ReadInt64(SlotOffset(generation) + SegmentLayout.GenerationOffset);

    public long FirstSequenceAt(long generation) => ReadInt64(SlotOffset(generation) + SegmentLayout.FirstSequenceOffset);

    public int CountAt(long generation) => ReadInt32(SlotOffset(generation) + SegmentLayout.RecordCountOffset);

    /// <summary>The data offset (inside the segment) of record <paramref name="index"/>, from the record index.</summary>
    public int IndexEntry(long generation, int index)
        => ReadInt32(SlotOffset(generation) + SegmentLayout.IndexOffset + ((long)index * SegmentLayout.IndexEntryLength));

    /// <summary>The file offset of byte <paramref name="offset"/> of a segment's data.</summary>
    public long DataAt(long generation, int offset) => SlotOffset(generation) + SegmentDataOffset + offset;

    /// <summary>Makes the writer lease look held by a process that was killed while holding it.</summary>
    public void AbandonWriterLease() => AbandonOwner(FileLayout.WriterOwnerOffset);

    /// <summary>Makes an owner block (the writer lease or a reader slot) look held by a dead process.</summary>
    public void AbandonOwner(long blockOffset)
    {
        long word = ReadInt64(blockOffset + OwnerLayout.OwnerWordOffset);
        long dead = OwnerBlock.MakeWord(OwnerBlock.EpochOf(word) + 1, DeadPid);
        Write(blockOffset + OwnerLayout.StartTimeOffset, 12345L);
        Write(blockOffset + OwnerLayout.PidNamespaceOffset, 0L);
        Write(blockOffset + OwnerLayout.IdentityEpochOffset, OwnerBlock.EpochOf(dead));
        Write(blockOffset + OwnerLayout.OwnerWordOffset, dead);
    }

    /// <summary>The file offset of reader slot <paramref name="index"/>.</summary>
    public static long ReaderSlotOffset(int index) => FileLayout.ReaderTableOffset + ((long)index * ReaderSlotLayout.Length);

    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
    }
}
