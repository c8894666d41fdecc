using System.Diagnostics;
using System.Globalization;
using SharedLog.Tests.Crash;
using SharedLog.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SharedLog.Tests.CrossProcess;

/// <summary>A writer in this process, readers in child processes: lossless under Block, exactly accounted under Evict.</summary>
[Collection(ProcessTests.Collection)]
public sealed class LogCrossProcessTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public LogCrossProcessTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Three_reader_processes_receive_a_million_checksummed_records_without_loss_under_block()
    {
        const long Total = 1_000_000;
        var (writer, log) = SegmentedLog.CreateClaimed("fanout", new SegmentedLogOptions
        {
            SegmentCapacity = 1024,
            SegmentBytes = 1024 * 192,
            RetainedCapacity = 8192,
            SlowReaderPolicy = SlowReaderPolicy.Block,
            SlowReaderTimeout = TimeSpan.FromSeconds(60),
            Directory = _dir.Path,
        });
        // The third reader takes lingering batches (up to 64 records, waiting up to 20 µs for 16).
        var children = Enumerable.Range(0, 3)
            .Select(i => Child.Start("verify-reader", [_dir.Path, "fanout", Total.ToString(CultureInfo.InvariantCulture), .. (i == 2 ? new[] { "batched" } : [])]))
            .ToArray();
        try
        {
            using (log)
            {
                foreach (var child in children)
                {
                    child.WaitForLine("ready", TimeSpan.FromSeconds(30));
                }

                var watch = Stopwatch.StartNew();
                var buffer = new byte[CheckedRecords.MaxPayload];
                using (writer)
                {
                    for (long i = 0; i < Total; i++)
                    {
                        Assert.Equal(i, CheckedRecords.AppendNext(writer, buffer));
                    }
                }

                foreach (var child in children)
                {
                    child.AssertSuccess(TimeSpan.FromMinutes(3));
                    Assert.Contains($"received {Total} lost 0", child.Output, StringComparison.Ordinal);
                }

                _output.WriteLine($"{Total} records to 3 reader processes in {watch.Elapsed.TotalSeconds:F2} s");
            }
        }
        finally
        {
            foreach (var child in children)
            {
                child.Dispose();
            }
        }
    }

    [Fact]
    public void Slow_reader_process_under_evict_accounts_for_every_record_as_received_or_lost()
    {
        const long Total = 300_000;
        var (writer, log) = SegmentedLog.CreateClaimed("evict", new SegmentedLogOptions
        {
            SegmentCapacity = 64,
            RetainedCapacity = 128,
            SpareSegments = 0,
            SlowReaderPolicy = SlowReaderPolicy.Evict,
            Directory = _dir.Path,
        });
        using var child = Child.Start("slow-reader", _dir.Path, "evict", Total.ToString(CultureInfo.InvariantCulture));
        using (log)
        {
            child.WaitForLine("ready", TimeSpan.FromSeconds(30));
            var buffer = new byte[CheckedRecords.MaxPayload];
            using (writer)
            {
                for (long i = 0; i < Total; i++)
                {
                    CheckedRecords.AppendNext(writer, buffer);
                }
            }

            child.AssertSuccess(TimeSpan.FromMinutes(2));
            string[] parts = child.WaitForLine("received ", TimeSpan.FromSeconds(1)).Split(' ');
            long received = long.Parse(parts[1], CultureInfo.InvariantCulture);
            long lost = long.Parse(parts[3], CultureInfo.InvariantCulture);
            _output.WriteLine($"slow reader: {received} received intact, {lost} lost, of {Total}");
            Assert.Equal(Total, received + lost);
            Assert.True(lost > 0, "the reader sleeps while a 192-record log fills: it must have been lapped");
            Assert.True(received > 0);
        }
    }

    [Fact]
    public void Reader_lapped_between_reading_a_count_and_moving_on_counts_the_skipped_records()
    {
        // The race the slow reader process can hit, made deterministic: the reader finished what it read of segment 0,
        // then the writer reused that slot for segment 3, whose count (1) is below the reader's index (3).
        var (writer, log) = SegmentedLog.CreateClaimed("lapped", new SegmentedLogOptions
        {
            SegmentCapacity = 4,
            RetainedCapacity = 8,
            SpareSegments = 0,
            SlowReaderPolicy = SlowReaderPolicy.Evict,
            Directory = _dir.Path,
        });
        using (writer)
        using (log)
        using (var reader = log.CreateReader())
        {
            for (long i = 0; i < 4; i++)
            {
                writer.Append(i);
            }

            long received = 0;
            for (int i = 0; i < 3; i++)
            {
                Assert.True(reader.TryRead(out var record));
                Assert.Equal(i, record.Read<long>());
                Assert.True(reader.Validate());
                received++;
            }

            for (long i = 4; i < 13; i++)
            {
                writer.Append(i);
            }

            while (reader.TryRead(out var record))
            {
                Assert.Equal(record.Sequence, record.Read<long>());
                if (reader.Validate())
                {
                    received++;
                }
            }

            Assert.Equal(13, reader.NextSequence);
            Assert.Equal(13, received + reader.LostCount);
            Assert.True(reader.LostCount > 0);
        }
    }

    /// <summary>
    /// Reads every record from the first, checks each, and fails on the first gap, tear or loss. Args: directory name
    /// total [batched]; with "batched" it reads lingering batches.
    /// </summary>
    [ChildRole("verify-reader")]
    public static int VerifyReader(string[] args)
    {
        long total = long.Parse(args[2], CultureInfo.InvariantCulture);
        using var log = SegmentedLog.Open(args[1], args[0]);
        using var reader = log.CreateReader(ReadFrom.Oldest);
        Console.WriteLine("ready");
        long expected = 0;
        if (args.Length > 3 && args[3] == "batched")
        {
            while (expected < total)
            {
                if (!reader.TryReadBatch(64, 16, TimeSpan.FromMicroseconds(20), out var batch))
                {
                    reader.Wait(TimeSpan.FromMilliseconds(100));
                    continue;
                }

                string? problem = batch.FirstSequence != expected ? $"a batch starts at {batch.FirstSequence}, expected {expected}" : null;
                foreach (var record in batch)
                {
                    problem ??= record.Sequence != expected ? $"got sequence {record.Sequence}, expected {expected}" : CheckedRecords.Check(record);
                    expected++;
                }

                if (!reader.Validate())
                {
                    problem ??= $"the batch from {batch.FirstSequence} was overwritten while held under Block";
                }

                if (problem is not null)
                {
                    Console.WriteLine($"FAIL {problem} (lost {reader.LostCount})");
                    return 1;
                }
            }

            Console.WriteLine($"received {expected} lost {reader.LostCount}");
            return 0;
        }

        while (expected < total)
        {
            if (!reader.TryRead(out var record))
            {
                reader.Wait(TimeSpan.FromMilliseconds(100));
                continue;
            }

            string? problem = record.Sequence != expected ? $"got sequence {record.Sequence}, expected {expected}" : CheckedRecords.Check(record);
            if (!reader.Validate())
            {
                problem ??= $"record {record.Sequence} was overwritten while held under Block";
            }

            if (problem is not null)
            {
                Console.WriteLine($"FAIL {problem} (lost {reader.LostCount})");
                return 1;
            }

            expected++;
        }

        Console.WriteLine($"received {expected} lost {reader.LostCount}");
        return 0;
    }

    /// <summary>Reads slowly; counts records that validate (their payload must be intact) and those it lost.</summary>
    [ChildRole("slow-reader")]
    public static int SlowReader(string[] args)
    {
        long total = long.Parse(args[2], CultureInfo.InvariantCulture);
        using var log = SegmentedLog.Open(args[1], args[0]);
        using var reader = log.CreateReader(ReadFrom.Oldest);
        Console.WriteLine("ready");
        long received = 0;
        long last = -1;
        while (reader.NextSequence < total)
        {
            if (!reader.TryRead(out var record))
            {
                reader.Wait(TimeSpan.FromMilliseconds(50));
                continue;
            }

            if (record.Sequence <= last)
            {
                Console.WriteLine($"FAIL sequence went back from {last} to {record.Sequence}");
                return 1;
            }

            last = record.Sequence;
            string? problem = CheckedRecords.Check(record);
            if (reader.Validate())
            {
                if (problem is not null)
                {
                    Console.WriteLine($"FAIL validated but {problem}");
                    return 1;
                }

                if (++received % 500 == 0)
                {
                    Thread.Sleep(1);
                }
            }
        }

        Console.WriteLine($"received {received} lost {reader.LostCount}");
        return 0;
    }
}
