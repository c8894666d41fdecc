using SharedLog.Layout;

namespace SharedLog.Tests.Layout;

/// <summary>Pins every offset of the file format: a change here is a format change and needs a new layout version.</summary>
public sealed class LayoutTests
{
    [Fact]
    public void File_header_offsets_are_pinned()
    {
        Assert.Equal(0x3130764F474C4853UL, FileLayout.Magic);
        Assert.Equal(2, FileLayout.CurrentVersion);
        Assert.Equal(1, FileLayout.KindLog);
        Assert.Equal(2, FileLayout.KindRing);
        Assert.Equal(0, FileLayout.MagicOffset);
        Assert.Equal(8, FileLayout.VersionOffset);
        Assert.Equal(12, FileLayout.KindOffset);
        Assert.Equal(16, FileLayout.FileLengthOffset);
        Assert.Equal(24, FileLayout.ReaderTableOffsetOffset);
        Assert.Equal(28, FileLayout.MaxReadersOffset);
        Assert.Equal(32, FileLayout.DataOffsetOffset);
        Assert.Equal(40, FileLayout.PolicyOffset);
        Assert.Equal(44, FileLayout.SlowReaderTimeoutMsOffset);
        Assert.Equal(48, FileLayout.CreatedOffset);
        Assert.Equal(56, FileLayout.KindParametersOffset);
        Assert.Equal(112, FileLayout.FileIdOffset);
        Assert.Equal(120, FileLayout.ChecksumOffset);
        Assert.Equal(120, FileLayout.ChecksummedLength);
        Assert.Equal(128, FileLayout.WriterOwnerOffset);
        Assert.Equal(256, FileLayout.HotLine0Offset);
        Assert.Equal(384, FileLayout.HotLine1Offset);
        Assert.Equal(512, FileLayout.DataSignalOffset);
        Assert.Equal(516, FileLayout.DataWaitersOffset);
        Assert.Equal(640, FileLayout.SpaceSignalOffset);
        Assert.Equal(644, FileLayout.SpaceWaitersOffset);
        Assert.Equal(768, FileLayout.ReaderTableOffset);
        Assert.Equal(4096, FileLayout.DataAlignment);
    }

    [Fact]
    public void Hot_fields_sit_on_their_own_128_byte_lines()
    {
        int[] lines = [FileLayout.WriterOwnerOffset, FileLayout.HotLine0Offset, FileLayout.HotLine1Offset, FileLayout.DataSignalOffset, FileLayout.SpaceSignalOffset, FileLayout.ReaderTableOffset];
        foreach (int offset in lines)
        {
            Assert.Equal(0, offset % FileLayout.LineLength);
        }

        Assert.Equal(lines.Length, lines.Select(o => o / 128).Distinct().Count());
        Assert.Equal(FileLayout.HotLine0Offset, LogLayout.HeadGenerationOffset);
        Assert.Equal(FileLayout.HotLine0Offset + 8, LogLayout.OldestGenerationOffset);

        // The extent count is the writer's too, on its hot line (it changes once per extent, so it costs readers nothing).
        Assert.Equal(FileLayout.HotLine0Offset / 128, LogLayout.ExtentCountOffset / 128);
        Assert.Equal(0, LogLayout.ExtentCountOffset % 8);
    }

    [Fact]
    public void Owner_and_reader_slot_offsets_are_pinned()
    {
        Assert.Equal(0, OwnerLayout.OwnerWordOffset);
        Assert.Equal(8, OwnerLayout.StartTimeOffset);
        Assert.Equal(16, OwnerLayout.PidNamespaceOffset);
        Assert.Equal(24, OwnerLayout.IdentityEpochOffset);
        Assert.Equal(32, OwnerLayout.HeartbeatOffset);
        Assert.Equal(40, OwnerLayout.Length);
        Assert.Equal(0, ReaderSlotLayout.OwnerOffset);
        Assert.Equal(40, ReaderSlotLayout.StateOffset);
        Assert.Equal(44, ReaderSlotLayout.RoleOffset);
        Assert.Equal(48, ReaderSlotLayout.PinOffset);
        Assert.Equal(56, ReaderSlotLayout.LostCountOffset);
        Assert.Equal(64, ReaderSlotLayout.EvictionsOffset);
        Assert.Equal(72, ReaderSlotLayout.PositionOffset);
        Assert.Equal(128, ReaderSlotLayout.Length);
        Assert.Equal(long.MaxValue, ReaderSlotLayout.NoPin);
    }

    [Fact]
    public void Log_segment_and_record_offsets_are_pinned()
    {
        Assert.Equal(56, LogLayout.SegmentCapacityOffset);
        Assert.Equal(60, LogLayout.SegmentBytesOffset);
        Assert.Equal(64, LogLayout.SlotCountOffset);
        Assert.Equal(68, LogLayout.SpareSegmentsOffset);
        Assert.Equal(72, LogLayout.RetainedCapacityOffset);
        Assert.Equal(80, LogLayout.SlotStrideOffset);
        Assert.Equal(88, LogLayout.RetainedSegmentsOffset);
        Assert.Equal(92, LogLayout.RetentionOffset);
        Assert.Equal(96, LogLayout.MaxBytesOffset);
        Assert.True(LogLayout.MaxBytesOffset + 8 <= FileLayout.FileIdOffset);
        Assert.Equal(0, LogLayout.RetentionWindow);
        Assert.Equal(1, LogLayout.RetentionUnbounded);
        Assert.Equal((int)LogRetention.Window, LogLayout.RetentionWindow);
        Assert.Equal((int)LogRetention.Unbounded, LogLayout.RetentionUnbounded);
        Assert.Equal(40, LogLayout.MaxExtentCount);
        Assert.Equal(256, LogLayout.HeadGenerationOffset);
        Assert.Equal(264, LogLayout.OldestGenerationOffset);
        Assert.Equal(272, LogLayout.CompletedSequenceOffset);
        Assert.Equal(280, LogLayout.ExtentCountOffset);

        Assert.Equal(0, SegmentLayout.GenerationOffset);
        Assert.Equal(8, SegmentLayout.FirstSequenceOffset);
        Assert.Equal(128, SegmentLayout.RecordCountOffset);
        Assert.Equal(256, SegmentLayout.HeaderLength);
        Assert.Equal(256, SegmentLayout.IndexOffset);
        Assert.Equal(4, SegmentLayout.IndexEntryLength);
        Assert.Equal(256 + 4096, SegmentLayout.DataOffset(1024));
        Assert.Equal(256 + 128, SegmentLayout.DataOffset(1));
        Assert.Equal(256 + 4096 + (1024 * 128), SegmentLayout.Stride(1024, 1024 * 128));

        Assert.Equal(0, RecordLayout.LengthOffset);
        Assert.Equal(4, RecordLayout.TypeIdOffset);
        Assert.Equal(8, RecordLayout.HeaderLength);
        Assert.Equal(8, RecordLayout.AlignedLength(0));
        Assert.Equal(16, RecordLayout.AlignedLength(1));
        Assert.Equal(16, RecordLayout.AlignedLength(8));
        Assert.Equal(72, RecordLayout.AlignedLength(64));
    }

    [Fact]
    public void A_default_log_file_has_the_planned_length()
    {
        using var dir = new Infrastructure.TempDirectory();
        using var log = SegmentedLog.Create("len", new SegmentedLogOptions { Directory = dir.Path });
        // 64 readers x 128 + 768 header -> data at 12288; 65536/1024 = 64 retained + 1 head + 2 spare = 67 slots.
        long stride = SegmentLayout.Stride(1024, 1024 * 128);
        Assert.Equal(67, log.SlotCount);
        Assert.Equal(12288 + (67 * stride), new FileInfo(log.FilePath).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log.FilePath));
        }
    }
}
