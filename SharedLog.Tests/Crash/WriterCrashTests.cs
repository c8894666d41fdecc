using System.Diagnostics;
using System.Globalization;
using SharedLog.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SharedLog.Tests.Crash;

/// <summary>
/// A writer killed with SIGKILL at any instant: mid-append, mid-claim, inside a segment roll. What it leaves must never
/// be visible as a torn record, and the next writer must take over at once and continue the sequence exactly.
/// </summary>
[Collection(ProcessTests.Collection)]
public sealed class WriterCrashTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public WriterCrashTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    [Fact]
    [Trait("Category", Stress.Category)]
    public void Writer_killed_at_random_instants_leaves_intact_records_and_the_next_writer_continues_at_once()
    {
        int rounds = Stress.Pick(10, 200);
        var random = new Random(12345);
        using var log = SegmentedLog.Create("killed", CheckedRecords.SmallOptions(_dir.Path));
        using var tail = new CheckedRecords.TailChecker(log);
        var buffer = new byte[CheckedRecords.MaxPayload];
        long next = 0;
        var claimTimes = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            using var child = Child.Start("crash-writer", _dir.Path, "killed");
            string line = child.WaitForLine("claimed ", TimeSpan.FromSeconds(30));
            Assert.Equal(next, long.Parse(line["claimed ".Length..], CultureInfo.InvariantCulture));

            // Anywhere from the first append to tens of milliseconds in: mid-record, mid-claim, mid-roll.
            int delay = random.Next(0, 40);
            if (delay > 0)
            {
                Thread.Sleep(delay);
            }

            Thread.SpinWait(random.Next(0, 20_000));
            child.Kill();
            var watch = Stopwatch.StartNew();

            // What the dead writer left is readable as it is: whole records only.
            using (var before = log.Snapshot())
            {
                CheckedRecords.AssertIntactAndContiguous(before);
                Assert.True(before.NextSequence >= next);
            }

            // The pid is gone, so the first claim succeeds: no heartbeat timeout.
            Assert.True(log.TryClaimWriter(out var writer), $"round {round}: the lease of the killed writer was not taken over");
            double claimMs = watch.Elapsed.TotalMilliseconds;
            claimTimes.Add(claimMs);
            Assert.True(claimMs < 1000, $"round {round}: the claim took {claimMs:F1} ms");
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
        }

        tail.WaitFor(next, TimeSpan.FromSeconds(30));
        Assert.Equal(0, tail.LostCount);
        _output.WriteLine($"{rounds} kills, {next} records; claim after kill: median {Median(claimTimes):F2} ms, max {claimTimes.Max():F2} ms");
    }

    [Theory]
    [InlineData(CrashStates.RollStep.OldestRaised, false)]
    [InlineData(CrashStates.RollStep.SlotMarkedReusing, false)]
    [InlineData(CrashStates.RollStep.SlotInitialised, false)]
    [InlineData(CrashStates.RollStep.SlotGenerationPublished, false)]
    [InlineData(CrashStates.RollStep.HeadPublished, false)]
    [InlineData(CrashStates.RollStep.OldestRaised, true)]
    [InlineData(CrashStates.RollStep.SlotMarkedReusing, true)]
    [InlineData(CrashStates.RollStep.SlotInitialised, true)]
    [InlineData(CrashStates.RollStep.SlotGenerationPublished, true)]
    [InlineData(CrashStates.RollStep.HeadPublished, true)]
    public void Writer_dead_inside_a_segment_roll_is_recovered(CrashStates.RollStep step, bool noSpare)
    {
        // Segments sealed by count (8 KiB holds 16 of the largest records), and enough of them that the roll reuses a
        // slot, whose old generation readers must stop trusting.
        var options = CheckedRecords.SmallOptions(_dir.Path, spare: noSpare ? 0 : 2, segmentBytes: 8192);
        var (writer, log) = SegmentedLog.CreateClaimed("roll", options);
        using (log)
        using (var fields = new FileFields(log))
        {
            var buffer = new byte[CheckedRecords.MaxPayload];
            while (fields.Head < fields.SlotCount + 2 || fields.CountAt(fields.Head) < log.SegmentCapacity)
            {
                CheckedRecords.AppendNext(writer, buffer);
            }

            long written = writer.NextSequence;
            fields.AbandonWriterLease();
            CrashStates.ReplayRollUpTo(log, fields, step, written);
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
                for (int i = 0; i < 4 * log.SegmentCapacity * log.SlotCount; i++)
                {
                    long expected = successor.NextSequence;
                    Assert.Equal(expected, CheckedRecords.AppendNext(successor, buffer));

                    // The reader keeps up, so under Block nothing it reads is lost.
                    while (reader.TryRead(out var record))
                    {
                        Assert.Null(CheckedRecords.Check(record));
                        Assert.True(reader.Validate());
                    }
                }

                Assert.Equal(0, reader.LostCount);
                Assert.Equal(successor.NextSequence, reader.NextSequence);
                using var snapshot = log.Snapshot();
                CheckedRecords.AssertIntactAndContiguous(snapshot);
                Assert.Equal(successor.NextSequence, snapshot.NextSequence);
                Assert.True(snapshot.Count >= log.RetainedCapacity);
            }
        }
    }

    [Theory]
    [InlineData(CrashStates.AppendStep.PayloadWritten)]
    [InlineData(CrashStates.AppendStep.IndexEntryWritten)]
    [InlineData(CrashStates.AppendStep.LengthCommitted)]
    public void Writer_dead_mid_append_leaves_nothing_visible_and_nothing_half_recovered(CrashStates.AppendStep step)
    {
        var (writer, log) = SegmentedLog.CreateClaimed("append", CheckedRecords.SmallOptions(_dir.Path));
        using (log)
        using (var fields = new FileFields(log))
        {
            var buffer = new byte[CheckedRecords.MaxPayload];

            // Past a full cycle of slots, so the head segment's data still holds an older generation's records.
            while (fields.Head < fields.SlotCount + 1 || fields.CountAt(fields.Head) is 0 or > 3)
            {
                CheckedRecords.AppendNext(writer, buffer);
            }

            long written = writer.NextSequence;
            fields.AbandonWriterLease();
            CrashStates.ReplayAppendUpTo(fields, step, written);
            writer.Dispose();

            using (var snapshot = log.Snapshot())
            {
                // The count was never published, so readers see none of it, whatever the step.
                Assert.Equal(written, snapshot.NextSequence);
                CheckedRecords.AssertIntactAndContiguous(snapshot);
            }

            Assert.True(log.TryClaimWriter(out var successor));
            using (successor)
            {
                // A record whose length was written was committed: it is published. Anything less is discarded.
                long recovered = step == CrashStates.AppendStep.LengthCommitted ? written + 1 : written;
                Assert.Equal(recovered, successor.NextSequence);
                for (int i = 0; i < 100; i++)
                {
                    CheckedRecords.AppendNext(successor, buffer);
                }

                using var snapshot = log.Snapshot();
                CheckedRecords.AssertIntactAndContiguous(snapshot);
                Assert.Equal(recovered + 100, snapshot.NextSequence);
            }
        }
    }

    [Fact]
    public void Process_killed_while_creating_leaves_no_file_or_a_complete_one()
    {
        var random = new Random(777);
        int complete = 0;
        for (int round = 0; round < 10; round++)
        {
            using (var child = Child.Start("create-loop", _dir.Path, "created"))
            {
                child.WaitForLine("looping", TimeSpan.FromSeconds(30));
                Thread.Sleep(random.Next(0, 60));
                Thread.SpinWait(random.Next(0, 50_000));
                child.Kill();
            }

            if (File.Exists(_dir.File("created")))
            {
                // Linked under its name only once initialised: a file that exists opens.
                using var log = SegmentedLog.Open("created", _dir.Path);
                Assert.Equal(0, log.GetStatus().NextSequence);
                complete++;
            }

            SegmentedLog.Delete("created", _dir.Path);
            Assert.Empty(Directory.GetFileSystemEntries(_dir.Path));
        }

        using (SegmentedLog.Create("created", new SegmentedLogOptions { Directory = _dir.Path }))
        {
            Assert.Equal(["created"], Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName));
        }

        _output.WriteLine($"{complete} of 10 kills left a complete file, the rest none");
    }

    /// <summary>Claims the writer of log args[1] in directory args[0] and appends until killed; at most args[2] records per µs when given.</summary>
    [ChildRole("crash-writer")]
    public static int CrashWriter(string[] args)
    {
        using var log = SegmentedLog.Open(args[1], args[0]);
        if (!log.TryClaimWriter(out var writer))
        {
            Console.WriteLine("claim-failed");
            return 4;
        }

        double perMicrosecond = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 0;
        Console.WriteLine($"claimed {writer.NextSequence}");
        var buffer = new byte[CheckedRecords.MaxPayload];
        long start = Stopwatch.GetTimestamp();
        for (long appended = 0; ; appended++)
        {
            while (perMicrosecond > 0 && appended >= perMicrosecond * Stopwatch.GetElapsedTime(start).TotalMicroseconds)
            {
                Thread.SpinWait(1);
            }

            CheckedRecords.AppendNext(writer, buffer);
        }
    }

    [ChildRole("create-loop")]
    public static int CreateLoop(string[] args)
    {
        var options = new SegmentedLogOptions { SegmentCapacity = 4096, RetainedCapacity = 4096 * 32, Directory = args[0] };
        Console.WriteLine("looping");
        while (true)
        {
            SegmentedLog.Create(args[1], options).Dispose();
            SegmentedLog.Delete(args[1], args[0]);
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
