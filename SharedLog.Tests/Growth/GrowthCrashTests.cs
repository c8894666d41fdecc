using System.Globalization;
using SharedLog.Layout;
using SharedLog.Tests.Crash;
using SharedLog.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SharedLog.Tests.Growth;

/// <summary>
/// A writer killed while the file grows: after reserving an extent, after mapping it, after publishing the extent count,
/// or in the roll that follows. The next writer continues with no gap, no duplicate and no torn record.
/// </summary>
[Collection(ProcessTests.Collection)]
public sealed class GrowthCrashTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public GrowthCrashTests(ITestOutputHelper output) => _output = output;

    /// <summary>How far a dead writer got in growing the file and rolling into the new extent.</summary>
    public enum GrowthStep
    {
        /// <summary>The extent's space is reserved (the file is longer); the count is not published.</summary>
        Reserved,

        /// <summary>The extent count is published; the roll has not started.</summary>
        CountPublished,

        /// <summary>The new extent's first slot is marked as being reused.</summary>
        SlotMarkedReusing,

        /// <summary>The slot is initialised with its first sequence.</summary>
        SlotInitialised,

        /// <summary>The slot's generation is published; the head is not.</summary>
        SlotGenerationPublished,
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    [Trait("Category", Stress.Category)]
    public void Writer_killed_at_random_instants_while_the_file_grows_leaves_intact_records_and_the_next_writer_continues()
    {
        // The writer is paced at 2 records per µs: a free-running one appends some 30 million records per second
        // here, and since the file doubles as it grows, a few 40 ms rounds of that outgrew any MaxBytes a test can
        // afford. Paced, a round appends at most about 100,000 records (30 MB), and kills still land mid-append.
        const string RecordsPerMicrosecond = "2";
        int rounds = Stress.Pick(10, 100);
        var random = new Random(4242);
        using var log = SegmentedLog.Create("killed", GrowthFiles.Options(_dir.Path, maxBytes: Stress.Enabled ? 1L << 33 : 1L << 30, segmentBytes: 1024));
        using var tail = new CheckedRecords.TailChecker(log);
        var buffer = new byte[CheckedRecords.MaxPayload];
        long next = 0;
        for (int round = 0; round < rounds; round++)
        {
            using var child = Child.Start("crash-writer", _dir.Path, "killed", RecordsPerMicrosecond);
            string line = child.WaitForLine("claimed ", TimeSpan.FromSeconds(30));
            Assert.Equal(next, long.Parse(line["claimed ".Length..], CultureInfo.InvariantCulture));
            Thread.Sleep(random.Next(0, 40));
            Thread.SpinWait(random.Next(0, 20_000));
            child.Kill();

            long extents = GrowthFiles.ExtentCount(log.FilePath);
            Assert.True(new FileInfo(log.FilePath).Length >= GrowthFiles.ExpectedLength(log, (int)extents));
            using (var before = log.Snapshot())
            {
                CheckedRecords.AssertIntactAndContiguous(before);
                Assert.Equal(0, before.FirstSequence);
                Assert.True(before.NextSequence >= next);
            }

            Assert.True(log.TryClaimWriter(out var writer), $"round {round}: the lease of the killed writer was not taken over");
            using (writer)
            {
                using (var after = log.Snapshot())
                {
                    CheckedRecords.AssertIntactAndContiguous(after);
                    Assert.Equal(after.NextSequence, writer.NextSequence);
                }

                for (int i = 0; i < 5; i++)
                {
                    long expected = writer.NextSequence;
                    Assert.Equal(expected, CheckedRecords.AppendNext(writer, buffer));
                }

                next = writer.NextSequence;
            }

            _output.WriteLine($"round {round}: {next} records, {GrowthFiles.ExtentCount(log.FilePath)} extents, file {new FileInfo(log.FilePath).Length} bytes");
        }

        tail.WaitFor(next, TimeSpan.FromSeconds(60));
        Assert.Equal(0, tail.LostCount);
        Assert.Equal(GrowthFiles.ExpectedLength(log, log.GetStatus().ExtentCount), new FileInfo(log.FilePath).Length);
    }

    [Theory]
    [InlineData(GrowthStep.Reserved)]
    [InlineData(GrowthStep.CountPublished)]
    [InlineData(GrowthStep.SlotMarkedReusing)]
    [InlineData(GrowthStep.SlotInitialised)]
    [InlineData(GrowthStep.SlotGenerationPublished)]
    public void Writer_dead_while_growing_is_recovered_and_growth_is_idempotent(GrowthStep step)
    {
        const int Extents = 4;
        var (writer, log) = SegmentedLog.CreateClaimed("dead", GrowthFiles.Options(_dir.Path));
        using (log)
        {
            // The writer fills the last segment of extent 3 (generation 14); its next roll would grow the file.
            var buffer = new byte[CheckedRecords.MaxPayload];
            long last = (1L << Extents) - 2;
            while (log.GetStatus().HeadGeneration < last)
            {
                CheckedRecords.AppendNext(writer, buffer);
            }

            Assert.Equal(Extents, GrowthFiles.ExtentCount(log.FilePath));
            long written = writer.NextSequence;
            using (var fields = new FileFields(log))
            {
                fields.AbandonWriterLease();
            }

            // Replays the writer's growth and roll up to the step, as it would leave them if killed there.
            string path = log.FilePath;
            long slot = GrowthFiles.SlotOffset(log, last + 1);
            GrowthFiles.SetLength(path, GrowthFiles.ExpectedLength(log, Extents + 1));
            if (step >= GrowthStep.CountPublished)
            {
                GrowthFiles.WriteInt64(path, LogLayout.ExtentCountOffset, Extents + 1);
            }

            if (step >= GrowthStep.SlotMarkedReusing)
            {
                GrowthFiles.WriteInt64(path, slot + SegmentLayout.GenerationOffset, SegmentLayout.ReusingGeneration);
            }

            if (step >= GrowthStep.SlotInitialised)
            {
                GrowthFiles.WriteInt64(path, slot + SegmentLayout.FirstSequenceOffset, written);
            }

            if (step >= GrowthStep.SlotGenerationPublished)
            {
                GrowthFiles.WriteInt64(path, slot + SegmentLayout.GenerationOffset, last + 1);
            }

            writer.Dispose();
            using var reader = log.CreateReader(ReadFrom.Oldest);
            using (var snapshot = log.Snapshot())
            {
                CheckedRecords.AssertIntactAndContiguous(snapshot);
                Assert.Equal(written, snapshot.NextSequence);
            }

            Assert.True(log.TryClaimWriter(out var successor));
            using (successor)
            {
                Assert.Equal(written, successor.NextSequence);
                long read = 0;
                while (log.GetStatus().ExtentCount < Extents + 2)
                {
                    long expected = successor.NextSequence;
                    Assert.Equal(expected, CheckedRecords.AppendNext(successor, buffer));
                    while (reader.TryRead(out var record))
                    {
                        Assert.Equal(read, record.Sequence);
                        Assert.Null(CheckedRecords.Check(record));
                        Assert.True(reader.Validate());
                        read++;
                    }
                }

                Assert.Equal(successor.NextSequence, read);
                Assert.Equal(0, reader.LostCount);
                Assert.Equal(GrowthFiles.ExpectedLength(log, Extents + 2), new FileInfo(path).Length);
                using var all = log.Snapshot();
                CheckedRecords.AssertIntactAndContiguous(all);
            }
        }
    }
}
