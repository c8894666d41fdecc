using SharedLog.Layout;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Ring;

/// <summary>Pins every offset of the ring's format: a change here is a format change and needs a new layout version.</summary>
public sealed class RingLayoutTests
{
    [Fact]
    public void Ring_offsets_are_pinned()
    {
        Assert.Equal(56, RingLayout.CapacityOffset);
        Assert.Equal(FileLayout.KindParametersOffset, RingLayout.CapacityOffset);
        Assert.True(RingLayout.CapacityOffset + 8 <= FileLayout.ChecksumOffset);

        Assert.Equal(256, RingLayout.WriterPositionOffset);
        Assert.Equal(280, RingLayout.CompletedPositionOffset);
        Assert.Equal(384, RingLayout.CachedMinReaderPositionOffset);
        Assert.Equal(392, RingLayout.JoinSequenceOffset);
        Assert.Equal(400, RingLayout.TailPositionOffset);
        Assert.Equal(408, RingLayout.TailIntentOffset);

        Assert.Equal(1, RingLayout.TailChunk(RingLayout.MinCapacity));
        Assert.Equal(16, RingLayout.TailChunk(1024));
        Assert.Equal(16 << 10, RingLayout.TailChunk(1 << 20));
        Assert.Equal(64 << 10, RingLayout.TailChunk(RingLayout.MaxCapacity));

        Assert.Equal(-1, RingLayout.NotCompleted);
        Assert.Equal(16, RingLayout.MinCapacity);
        Assert.Equal(1 << 30, RingLayout.MaxCapacity);
        Assert.Equal(1L << 62, RingLayout.MaxPosition);
    }

    [Fact]
    public void Ring_hot_fields_are_aligned_and_the_tail_is_not_on_the_writer_position_line()
    {
        // Writer Position changes on every write; Tail and Tail Intent once per tail chunk. Apart, a reader's seqlock
        // re-read of Tail does not miss on the line the writer just stored Writer Position into.
        int[] line0 = [RingLayout.WriterPositionOffset, RingLayout.CompletedPositionOffset];
        int[] line1 = [RingLayout.CachedMinReaderPositionOffset, RingLayout.JoinSequenceOffset, RingLayout.TailPositionOffset, RingLayout.TailIntentOffset];
        Assert.All(line0, o => Assert.Equal(FileLayout.HotLine0Offset / FileLayout.LineLength, o / FileLayout.LineLength));
        Assert.All(line1, o => Assert.Equal(FileLayout.HotLine1Offset / FileLayout.LineLength, o / FileLayout.LineLength));
        Assert.All(line0.Concat(line1).Append(RingLayout.CapacityOffset), o => Assert.Equal(0, o % 8));
    }

    [Fact]
    public void A_ring_file_has_the_planned_length_and_owner_only_mode()
    {
        using var dir = new TempDirectory();
        using var ring = ByteRing.Create("len", new ByteRingOptions { Capacity = 1 << 16, MaxReaders = 64, Directory = dir.Path });

        // 768 header + 64 readers x 128 = 8960 -> data at 12288 (4 KiB aligned), then the capacity.
        Assert.Equal(12288 + (1 << 16), new FileInfo(ring.FilePath).Length);
        Assert.Equal(1 << 16, ring.Capacity);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ring.FilePath));
        }
    }
}
