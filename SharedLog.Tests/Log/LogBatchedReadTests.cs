using System.Diagnostics;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Log;

/// <summary>
/// <see cref="LogReader.TryReadBatch(int, int, TimeSpan, out LogBatch)"/>: a batch that lingers for a minimum while
/// records flow. Across processes one of the fan-out test's readers reads this way.
/// </summary>
public sealed class LogBatchedReadTests : IDisposable
{
    private static readonly TimeSpan Linger = LogReader.MaxReadDelay;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private (LogWriter Writer, SegmentedLog Log) Create(string name, int segmentCapacity = 64)
        => SegmentedLog.CreateClaimed(name, new SegmentedLogOptions
        {
            SegmentCapacity = segmentCapacity,
            RetainedCapacity = segmentCapacity * 4,
            SlowReaderPolicy = SlowReaderPolicy.Block,
            SlowReaderTimeout = TimeSpan.FromSeconds(60),
            Directory = _dir.Path,
        });

    private static void Append(LogWriter writer, int count)
    {
        for (int i = 0; i < count; i++)
        {
            writer.Append(BitConverter.GetBytes(writer.NextSequence));
        }
    }

    /// <summary>Takes one batch's records, checking that each carries its own sequence; returns how many.</summary>
    private static int Take(in LogBatch batch, ref long next)
    {
        Assert.Equal(next, batch.FirstSequence);
        int count = 0;
        foreach (var record in batch)
        {
            Assert.Equal(next, record.Sequence);
            Assert.Equal(next, BitConverter.ToInt64(record.Payload));
            next++;
            count++;
        }

        Assert.Equal(batch.Count, count);
        return count;
    }

    [Fact]
    public void It_takes_everything_there_at_once_when_the_minimum_is_there()
    {
        var (writer, log) = Create("enough");
        using (writer)
        using (log)
        using (var reader = log.CreateReader(ReadFrom.Oldest))
        {
            long next = 0;
            Append(writer, 5);
            Assert.True(reader.TryReadBatch(10, 3, Linger, out var batch));
            Assert.Equal(5, Take(batch, ref next));

            // maxRecords still caps the batch; a minimum of 0 or 1 is a plain batch.
            Append(writer, 5);
            Assert.True(reader.TryReadBatch(2, 2, Linger, out batch));
            Assert.Equal(2, Take(batch, ref next));
            Assert.True(reader.TryReadBatch(10, 0, Linger, out batch));
            Assert.Equal(3, Take(batch, ref next));
            Assert.False(reader.TryReadBatch(10, 1, Linger, out _));
            Assert.True(reader.Validate());
        }
    }

    [Fact]
    public void It_returns_false_when_nothing_is_there()
    {
        var (writer, log) = Create("nothing");
        using (writer)
        using (log)
        using (var reader = log.CreateReader(ReadFrom.Oldest))
        {
            Assert.False(reader.TryReadBatch(10, 5, Linger, out _));
            Assert.Equal(0, reader.NextSequence);
        }
    }

    [Fact]
    public void It_lingers_the_whole_delay_for_a_minimum_that_does_not_come_then_takes_what_is_there()
    {
        var (writer, log) = Create("short");
        using (writer)
        using (log)
        using (var reader = log.CreateReader(ReadFrom.Oldest))
        {
            long next = 0;
            Append(writer, 2);
            long start = Stopwatch.GetTimestamp();
            Assert.True(reader.TryReadBatch(10, 3, Linger, out var batch));
            var waited = Stopwatch.GetElapsedTime(start);
            Assert.True(waited >= Linger, $"the batch lingered {waited.TotalMicroseconds:0} µs of {Linger.TotalMicroseconds:0}");
            Assert.Equal(2, Take(batch, ref next));
        }
    }

    [Fact]
    public void Under_a_flowing_writer_a_batch_below_the_minimum_has_lingered_the_whole_delay_or_ends_its_segment()
    {
        const int SegmentCapacity = 64;
        const int Minimum = 8;
        var delay = TimeSpan.FromMicroseconds(200);
        var (writer, log) = Create("flowing", SegmentCapacity);
        using (log)
        using (var reader = log.CreateReader(ReadFrom.Oldest))
        {
            // Another thread appends records one by one, pausing between them, so reads keep finding a few.
            using var stop = new CancellationTokenSource();
            var appender = BackgroundThread.Start(() =>
            {
                using (writer)
                {
                    var payload = new byte[8];
                    while (!stop.IsCancellationRequested)
                    {
                        // Never a blocking append: once the reads below are done, a writer blocked on the reader's
                        // pin (Block, 60 s) would not see the stop in time. The ring's test writes the same way.
                        BitConverter.TryWriteBytes(payload, writer.NextSequence);
                        if (!writer.TryAppend(payload, out _))
                        {
                            Thread.Yield();
                            continue;
                        }

                        Thread.SpinWait(200);
                    }
                }
            });

            long next = 0;
            int batches = 0;
            try
            {
                while (batches < 300)
                {
                    long start = Stopwatch.GetTimestamp();
                    if (!reader.TryReadBatch(64, Minimum, delay, out var batch))
                    {
                        reader.Wait(TimeSpan.FromSeconds(10));
                        continue;
                    }

                    var elapsed = Stopwatch.GetElapsedTime(start);
                    long first = next;
                    int count = Take(batch, ref next);
                    batches++;
                    bool endsSegment = (first + count) % SegmentCapacity == 0;
                    if (count < Minimum && !endsSegment)
                    {
                        // The contract: fewer than the minimum only after the whole delay.
                        Assert.True(elapsed >= delay, $"a batch of {count} records from {first} returned after {elapsed.TotalMicroseconds:0} µs");
                    }
                }
            }
            finally
            {
                stop.Cancel();
                appender.Join(TimeSpan.FromSeconds(30));
            }

            Assert.True(reader.Validate());
            Assert.Equal(0, reader.LostCount);
        }
    }

    [Fact]
    public void A_sealed_segment_and_a_completed_log_are_read_to_their_end()
    {
        var (writer, log) = Create("ends", segmentCapacity: 4);
        using (log)
        using (var reader = log.CreateReader(ReadFrom.Oldest))
        {
            long next = 0;
            using (writer)
            {
                // Two records left in the first segment when the writer has moved on to the second.
                Append(writer, 2);
                Assert.True(reader.TryReadBatch(2, out var batch));
                Take(batch, ref next);
                Append(writer, 3);
                Assert.True(reader.TryReadBatch(10, 8, Linger, out batch));
                Assert.Equal(2, Take(batch, ref next));
                Assert.True(reader.TryReadBatch(10, 8, Linger, out batch));
                Assert.Equal(1, Take(batch, ref next));

                Append(writer, 2);
                writer.Complete();
            }

            Assert.True(reader.TryReadBatch(10, 8, Linger, out var last));
            Assert.Equal(2, Take(last, ref next));
            Assert.False(reader.TryReadBatch(10, 8, Linger, out _));
            Assert.True(reader.IsCompleted);
            Assert.True(reader.Validate());
            Assert.Equal(0, reader.LostCount);
        }
    }

    [Fact]
    public void Under_evict_a_held_batch_overwritten_before_a_lingering_call_counts_lost_exactly()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("evict", new SegmentedLogOptions
        {
            SegmentCapacity = 4,
            RetainedCapacity = 8,
            SlowReaderPolicy = SlowReaderPolicy.Evict,
            Directory = _dir.Path,
        });
        using (writer)
        using (log)
        using (var reader = log.CreateReader(ReadFrom.Oldest))
        {
            // A whole segment handed out and held; then the writer laps its slot.
            Append(writer, 4);
            Assert.True(reader.TryReadBatch(4, out var held));
            Assert.Equal(4, held.Count);
            Append(writer, 40);

            long delivered = 0;
            while (reader.TryReadBatch(8, 2, Linger, out var batch))
            {
                long next = batch.FirstSequence;
                int count = Take(batch, ref next);
                if (reader.Validate())
                {
                    delivered += count;
                }
            }

            // Every position was either delivered intact or counted lost, the held four among the lost.
            Assert.True(reader.LostCount >= 4, $"lost {reader.LostCount}");
            Assert.Equal(44, delivered + reader.LostCount);
            Assert.Equal(44, reader.NextSequence);
        }
    }

    [Fact]
    public void Arguments_out_of_range_are_refused_before_anything_is_read()
    {
        var (writer, log) = Create("arguments");
        using (writer)
        using (log)
        {
            var reader = log.CreateReader(ReadFrom.Oldest);
            Append(writer, 3);
            Assert.Throws<ArgumentOutOfRangeException>("maxRecords", () => reader.TryReadBatch(0, 0, Linger, out _));
            Assert.Throws<ArgumentOutOfRangeException>("minRecords", () => reader.TryReadBatch(4, -1, Linger, out _));
            Assert.Throws<ArgumentOutOfRangeException>("minRecords", () => reader.TryReadBatch(4, 5, Linger, out _));
            Assert.Throws<ArgumentOutOfRangeException>("maxDelay", () => reader.TryReadBatch(4, 2, TimeSpan.FromTicks(-1), out _));
            var tooLong = Assert.Throws<ArgumentOutOfRangeException>("maxDelay", () => reader.TryReadBatch(4, 2, Linger + TimeSpan.FromTicks(1), out _));
            Assert.Contains("Wait", tooLong.Message);
            Assert.Equal(0, reader.NextSequence);

            reader.Dispose();
            Assert.Throws<ObjectDisposedException>(() => reader.TryReadBatch(4, 2, Linger, out _));
        }
    }
}
