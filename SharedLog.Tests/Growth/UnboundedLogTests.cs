using SharedLog.Tests.Crash;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Growth;

/// <summary>A log that keeps every record: options, growth by doubling extents, random access, the MaxBytes limit.</summary>
public sealed class UnboundedLogTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Unbounded_needs_MaxBytes_and_Window_refuses_it()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SegmentedLog.Create("a", new SegmentedLogOptions { Retention = LogRetention.Unbounded, Directory = _dir.Path }));
        Assert.Contains("MaxBytes", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => SegmentedLog.Create("b", new SegmentedLogOptions { MaxBytes = 1 << 20, Directory = _dir.Path }));
        Assert.Contains("MaxBytes", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => SegmentedLog.Create("c", new SegmentedLogOptions { Retention = (LogRetention)7, Directory = _dir.Path }));
        Assert.Contains("Retention", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_dir.Path));
    }

    [Fact]
    public void Retention_and_MaxBytes_are_recorded_in_the_file_and_checked_by_open_or_create()
    {
        var options = GrowthFiles.Options(_dir.Path, maxBytes: 1 << 20);
        using (var log = SegmentedLog.Create("rec", options))
        {
            Assert.Equal(LogRetention.Unbounded, log.Retention);
            Assert.Equal(1 << 20, log.MaxBytes);
            Assert.Equal(GrowthFiles.ExpectedLength(log, 1), new FileInfo(log.FilePath).Length);
        }

        using (var reopened = SegmentedLog.Open("rec", _dir.Path))
        {
            Assert.Equal(LogRetention.Unbounded, reopened.Retention);
            Assert.Equal(1 << 20, reopened.MaxBytes);
        }

        using (SegmentedLog.OpenOrCreate("rec", options))
        {
        }

        var e = Assert.Throws<ArgumentException>(() => SegmentedLog.OpenOrCreate("rec", GrowthFiles.Options(_dir.Path, maxBytes: 2 << 20)));
        Assert.Contains("MaxBytes", e.Message, StringComparison.Ordinal);
        var window = new SegmentedLogOptions { SegmentCapacity = 16, SegmentBytes = 2048, MaxReaders = 8, Directory = _dir.Path };
        e = Assert.Throws<ArgumentException>(() => SegmentedLog.OpenOrCreate("rec", window));
        Assert.Contains("Retention", e.Message, StringComparison.Ordinal);
        using var windowLog = SegmentedLog.Create("win", window);
        Assert.Equal(LogRetention.Window, windowLog.Retention);
        Assert.Equal(0, windowLog.MaxBytes);
    }

    [Fact]
    public void The_file_grows_by_doubling_extents_and_every_record_stays_where_it_was()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("grow", GrowthFiles.Options(_dir.Path));
        using (log)
        using (writer)
        using (var reader = log.CreateReader(ReadFrom.Oldest))
        {
            var buffer = new byte[CheckedRecords.MaxPayload];
            CheckedRecords.AppendNext(writer, buffer);
            using var early = log.Snapshot();
            Assert.True(early.TryGet(0, out var first));

            // A span handed out before the file grew: it must stay mapped and unchanged through every growth.
            ReadOnlySpan<byte> held = first.Payload;
            byte[] copy = held.ToArray();
            int lastExtents = 1;
            while (log.GetStatus().ExtentCount < 10)
            {
                CheckedRecords.AppendNext(writer, buffer);
                while (reader.TryRead(out var record))
                {
                    Assert.Null(CheckedRecords.Check(record));
                    Assert.True(reader.Validate());
                }

                int extents = (int)log.File.ReadExtentCount();
                if (extents != lastExtents)
                {
                    Assert.Equal(lastExtents + 1, extents);
                    Assert.Equal(GrowthFiles.ExpectedLength(log, extents), new FileInfo(log.FilePath).Length);
                    lastExtents = extents;
                }
            }

            Assert.True(held.SequenceEqual(copy));
            Assert.Equal(0, reader.LostCount);

            var status = log.GetStatus();
            Assert.Equal(LogRetention.Unbounded, status.Retention);
            Assert.Equal(10, status.ExtentCount);
            Assert.Equal(0, status.OldestGeneration);
            Assert.Equal(0, status.FirstSequence);
            Assert.Equal(GrowthFiles.ExpectedLength(log, 10), status.FileBytes);
            Assert.Equal(new FileInfo(log.FilePath).Length, status.FileBytes);
            Assert.True(status.HeadGeneration >= (1 << 9) - 1);

            // Nothing was retired: a fresh snapshot holds the whole history, and random access finds every record.
            using var all = log.Snapshot();
            Assert.Equal(0, all.FirstSequence);
            Assert.Equal(writer.NextSequence, all.NextSequence);
            CheckedRecords.AssertIntactAndContiguous(all);
            var random = new Random(7);
            for (int i = 0; i < 10_000; i++)
            {
                long sequence = random.NextInt64(all.NextSequence);
                Assert.True(all.TryGet(sequence, out var record));
                Assert.Equal(sequence, record.Sequence);
                Assert.Null(CheckedRecords.Check(record));
            }

            // The early snapshot still shows what it showed, from the first extent.
            Assert.True(early.TryGet(0, out var again));
            Assert.True(again.Payload.SequenceEqual(copy));
        }
    }

    [Fact]
    public void Reaching_MaxBytes_is_a_clear_error_and_the_log_stays_readable()
    {
        // Room for exactly 5 extents (31 segments).
        using var probe = SegmentedLog.Create("probe", GrowthFiles.Options(_dir.Path));
        long maxBytes = GrowthFiles.ExpectedLength(probe, 5) + probe.File.SlotStride;
        var (writer, log) = SegmentedLog.CreateClaimed("full", GrowthFiles.Options(_dir.Path, maxBytes: maxBytes));
        using (log)
        using (writer)
        {
            var buffer = new byte[CheckedRecords.MaxPayload];
            SharedLogException? error = null;
            while (error is null)
            {
                long before = writer.NextSequence;
                try
                {
                    CheckedRecords.AppendNext(writer, buffer);
                }
                catch (SharedLogException e)
                {
                    error = e;
                    Assert.Equal(before, writer.NextSequence);
                }
            }

            Assert.Contains("MaxBytes", error.Message, StringComparison.Ordinal);
            Assert.Contains(GrowthFiles.ExpectedLength(log, 6).ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
            Assert.Equal(5, log.GetStatus().ExtentCount);
            Assert.Equal(30, log.GetStatus().HeadGeneration);
            Assert.Equal(GrowthFiles.ExpectedLength(log, 5), new FileInfo(log.FilePath).Length);

            // Still full, still readable, and nothing half-written.
            Assert.Throws<SharedLogException>(() => CheckedRecords.AppendNext(writer, buffer));
            using var snapshot = log.Snapshot();
            Assert.Equal(writer.NextSequence, snapshot.NextSequence);
            CheckedRecords.AssertIntactAndContiguous(snapshot);
            using var reopened = SegmentedLog.Open("full", _dir.Path);
            using var late = reopened.CreateReader(ReadFrom.Oldest);
            long read = 0;
            while (late.TryRead(out var record))
            {
                Assert.Null(CheckedRecords.Check(record));
                read++;
            }

            Assert.Equal(writer.NextSequence, read);
        }
    }

    [Fact]
    public void Open_accepts_a_longer_file_only_under_Unbounded()
    {
        SegmentedLog.Create("u", GrowthFiles.Options(_dir.Path)).Dispose();
        string unbounded = Path.Combine(_dir.Path, "u");
        GrowthFiles.SetLength(unbounded, new FileInfo(unbounded).Length + (1 << 20));
        using (var log = SegmentedLog.Open("u", _dir.Path))
        {
            Assert.True(log.TryClaimWriter(out var writer));
            using (writer)
            {
                var buffer = new byte[CheckedRecords.MaxPayload];
                for (int i = 0; i < 2000; i++)
                {
                    CheckedRecords.AppendNext(writer, buffer);
                }
            }

            using var snapshot = log.Snapshot();
            CheckedRecords.AssertIntactAndContiguous(snapshot);
        }

        Assert.Equal(new FileInfo(unbounded).Length, SharedLogFiles.Probe("u", _dir.Path).Length);

        SegmentedLog.Create("w", new SegmentedLogOptions { SegmentCapacity = 16, MaxReaders = 8, RetainedCapacity = 64, Directory = _dir.Path }).Dispose();
        string window = Path.Combine(_dir.Path, "w");
        GrowthFiles.SetLength(window, new FileInfo(window).Length + 4096);
        var e = Assert.Throws<SharedLogFormatException>(() => SegmentedLog.Open("w", _dir.Path));
        Assert.Contains("extended", e.Message, StringComparison.Ordinal);
    }
}
