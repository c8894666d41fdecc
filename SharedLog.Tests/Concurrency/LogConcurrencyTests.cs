using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Concurrency;

public sealed class LogConcurrencyTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Writer_thread_and_reader_threads_a_million_checksummed_records_no_gap_no_tear_under_block()
    {
        const long Total = 1_000_000;
        const int Readers = 3;
        var (writer, log) = SegmentedLog.CreateClaimed("threads-block", new SegmentedLogOptions
        {
            SegmentCapacity = 512,
            RetainedCapacity = 4096,
            SlowReaderPolicy = SlowReaderPolicy.Block,
            SlowReaderTimeout = TimeSpan.FromMinutes(5),
            Directory = _dir.Path,
        });
        using (log)
        {
            var readers = Enumerable.Range(0, Readers).Select(_ => log.CreateReader()).ToArray();
            var failures = new string?[Readers];
            var counts = new long[Readers];
            var threads = Enumerable.Range(0, Readers).Select(r => new Thread(() =>
            {
                var reader = readers[r];
                long expected = 0;
                try
                {
                    while (expected < Total)
                    {
                        if (!reader.TryRead(out var record))
                        {
                            reader.Wait(TimeSpan.FromMilliseconds(100));
                            continue;
                        }

                        if (record.Sequence != expected)
                        {
                            failures[r] = $"reader {r}: got sequence {record.Sequence}, expected {expected}";
                            return;
                        }

                        if (!Payloads.Verify(record.Payload, record.Sequence) || !reader.Validate())
                        {
                            failures[r] = $"reader {r}: record {record.Sequence} is torn or was overwritten";
                            return;
                        }

                        expected++;
                    }

                    counts[r] = expected;
                }
                catch (Exception e)
                {
                    failures[r] = $"reader {r}: {e}";
                }
            })
            { IsBackground = true }).ToArray();

            foreach (var thread in threads)
            {
                thread.Start();
            }

            var buffer = new byte[256];
            using (writer)
            {
                for (long i = 0; i < Total; i++)
                {
                    int length = Payloads.Fill(buffer, i, 16, 120);
                    Assert.Equal(i, writer.Append(buffer.AsSpan(0, length)));
                }
            }

            foreach (var thread in threads)
            {
                Assert.True(thread.Join(TimeSpan.FromMinutes(3)), "a reader thread did not finish");
            }

            for (int r = 0; r < Readers; r++)
            {
                Assert.Null(failures[r]);
                Assert.Equal(Total, counts[r]);
                Assert.Equal(0, readers[r].LostCount);
                readers[r].Dispose();
            }
        }
    }

    [Fact]
    public void Under_evict_every_record_is_received_intact_or_counted_lost()
    {
        const long Total = 1_000_000;
        var (writer, log) = SegmentedLog.CreateClaimed("threads-evict", new SegmentedLogOptions
        {
            SegmentCapacity = 64,
            RetainedCapacity = 128,
            SpareSegments = 0,
            SlowReaderPolicy = SlowReaderPolicy.Evict,
            Directory = _dir.Path,
        });
        using (log)
        {
            using var reader = log.CreateReader();
            string? failure = null;
            long received = 0;
            long lastSequence = -1;
            using var done = new ManualResetEventSlim();
            var thread = new Thread(() =>
            {
                try
                {
                    while (true)
                    {
                        if (!reader.TryRead(out var record))
                        {
                            if (done.IsSet && !reader.TryRead(out record))
                            {
                                return;
                            }

                            if (record.Payload.IsEmpty)
                            {
                                Thread.SpinWait(20);
                                continue;
                            }
                        }

                        if (record.Sequence <= lastSequence)
                        {
                            failure = $"sequence went back from {lastSequence} to {record.Sequence}";
                            return;
                        }

                        bool intact = Payloads.Verify(record.Payload, record.Sequence);
                        if (reader.Validate())
                        {
                            if (!intact)
                            {
                                failure = $"record {record.Sequence} validated but its payload is torn";
                                return;
                            }

                            received++;
                        }

                        lastSequence = record.Sequence;
                        if (received % 4096 == 0)
                        {
                            // Be slow now and then, so the writer laps this reader.
                            Thread.Sleep(1);
                        }
                    }
                }
                catch (Exception e)
                {
                    failure = e.ToString();
                }
            })
            { IsBackground = true };
            thread.Start();

            var buffer = new byte[256];
            using (writer)
            {
                for (long i = 0; i < Total; i++)
                {
                    int length = Payloads.Fill(buffer, i, 16, 120);
                    writer.Append(buffer.AsSpan(0, length));
                }
            }

            done.Set();
            Assert.True(thread.Join(TimeSpan.FromMinutes(2)));
            Assert.Null(failure);
            Assert.True(reader.LostCount > 0, "the reader sleeps while a 192-record log fills: it must have been lapped");
            Assert.Equal(Total, received + reader.LostCount);
        }
    }

    [Fact]
    public void Under_evict_every_batch_is_received_intact_or_counted_lost()
    {
        const long Total = 1_000_000;
        var (writer, log) = SegmentedLog.CreateClaimed("threads-evict-batch", new SegmentedLogOptions
        {
            SegmentCapacity = 64,
            RetainedCapacity = 128,
            SpareSegments = 0,
            SlowReaderPolicy = SlowReaderPolicy.Evict,
            Directory = _dir.Path,
        });
        using (log)
        {
            using var reader = log.CreateReader();
            using var done = new ManualResetEventSlim();
            long received = 0;
            long lastSequence = -1;
            long torn = 0;
            long batches = 0;
            var thread = BackgroundThread.Start(() =>
            {
                while (true)
                {
                    if (!reader.TryReadBatch(16, out var batch))
                    {
                        if (done.IsSet && !reader.TryReadBatch(16, out batch))
                        {
                            return;
                        }

                        if (batch.Count == 0)
                        {
                            Thread.SpinWait(20);
                            continue;
                        }
                    }

                    Assert.True(batch.FirstSequence > lastSequence, $"sequence went back from {lastSequence} to {batch.FirstSequence}");
                    long tornHere = 0;
                    int seen = 0;
                    foreach (var record in batch)
                    {
                        tornHere += Payloads.Verify(record.Payload, record.Sequence) ? 0 : 1;
                        seen++;
                    }

                    if (reader.Validate())
                    {
                        // A batch that validates was intact all along: every record whole, none missing.
                        Assert.Equal(0, tornHere);
                        Assert.Equal(batch.Count, seen);
                        received += batch.Count;
                    }
                    else
                    {
                        torn += tornHere;
                    }

                    lastSequence = batch.FirstSequence + batch.Count - 1;
                    if (++batches % 256 == 0)
                    {
                        Thread.Sleep(1);
                    }
                }
            });

            var buffer = new byte[256];
            using (writer)
            {
                for (long i = 0; i < Total; i++)
                {
                    int length = Payloads.Fill(buffer, i, 16, 120);
                    writer.Append(buffer.AsSpan(0, length));
                }
            }

            done.Set();
            thread.Join(TimeSpan.FromMinutes(2));
            Assert.True(reader.LostCount > 0, "the reader sleeps while a 192-record log fills: it must have been lapped");
            Assert.Equal(Total, received + reader.LostCount);
        }
    }
}
