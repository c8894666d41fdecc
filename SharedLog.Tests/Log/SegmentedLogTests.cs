using System.Text;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Log;

public sealed class SegmentedLogTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private SegmentedLogOptions Options(long retained = 8, int segment = 4, SlowReaderPolicy policy = SlowReaderPolicy.Block, int spare = 2, int segmentBytes = 0)
        => new()
        {
            RetainedCapacity = retained,
            SegmentCapacity = segment,
            SegmentBytes = segmentBytes,
            SpareSegments = spare,
            SlowReaderPolicy = policy,
            SlowReaderTimeout = TimeSpan.FromMilliseconds(200),
            Directory = _dir.Path,
        };

    private static List<long> Sequences(LogSnapshot snapshot)
    {
        var list = new List<long>();
        foreach (var record in snapshot)
        {
            list.Add(record.Read<long>());
            Assert.Equal(record.Sequence, record.Read<long>());
        }

        return list;
    }

    [Fact]
    public void Seed_example_snapshot_refresh_and_chunks()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("seed", Options(retained: 8, segment: 4));
        using (writer)
        using (log)
        {
            for (long i = 0; i < 6; i++)
            {
                Assert.Equal(i, writer.Append(i));
            }

            using var snapshot = log.Snapshot();
            Assert.Equal([0, 1, 2, 3, 4, 5], Sequences(snapshot));

            writer.Append(6L);
            writer.Append(7L);
            Assert.Equal(6, snapshot.Count);
            snapshot.Refresh();
            Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], Sequences(snapshot));

            var chunks = new List<(long Segment, long First, int Count)>();
            foreach (var chunk in snapshot.Chunks)
            {
                chunks.Add((chunk.SegmentSequence, chunk.FirstSequence, chunk.Count));
                long expected = chunk.FirstSequence;
                foreach (var record in chunk)
                {
                    Assert.Equal(expected++, record.Sequence);
                }

                Assert.Equal(chunk.FirstSequence + chunk.Count, expected);
            }

            Assert.Equal([(0L, 0L, 4), (1L, 4L, 4)], chunks);
        }
    }

    [Fact]
    public void TryGet_finds_every_retained_record_and_nothing_else()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("tryget", Options(retained: 20, segment: 4, spare: 0));
        using (writer)
        using (log)
        {
            for (long i = 0; i < 100; i++)
            {
                writer.Append(Encoding.UTF8.GetBytes($"record {i}"), typeId: (int)(i % 7));
            }

            using var snapshot = log.Snapshot();
            Assert.True(snapshot.Count >= 20, $"window holds {snapshot.Count}");
            Assert.Equal(100, snapshot.NextSequence);
            for (long s = snapshot.FirstSequence; s < snapshot.NextSequence; s++)
            {
                Assert.True(snapshot.TryGet(s, out var record));
                Assert.Equal(s, record.Sequence);
                Assert.Equal((int)(s % 7), record.TypeId);
                Assert.Equal($"record {s}", Encoding.UTF8.GetString(record.Payload));
            }

            Assert.False(snapshot.TryGet(snapshot.FirstSequence - 1, out _));
            Assert.False(snapshot.TryGet(snapshot.NextSequence, out _));
            Assert.False(snapshot.TryGet(-1, out _));
            Assert.False(snapshot.TryGet(long.MaxValue, out _));
        }
    }

    [Fact]
    public void Window_holds_at_least_the_retained_capacity_and_chunks_are_never_empty()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("window", Options(retained: 10, segment: 4));
        using (writer)
        using (log)
        {
            for (long i = 0; i < 200; i++)
            {
                writer.Append(i);
                using var snapshot = log.Snapshot();
                Assert.Equal(i + 1, snapshot.NextSequence);
                Assert.True(snapshot.Count >= Math.Min(10, i + 1), $"after {i + 1} appends the window holds {snapshot.Count}");
                long expected = snapshot.FirstSequence;
                foreach (var chunk in snapshot.Chunks)
                {
                    Assert.True(chunk.Count > 0);
                    Assert.Equal(expected, chunk.FirstSequence);
                    expected += chunk.Count;
                }

                Assert.Equal(snapshot.NextSequence, expected);
            }
        }
    }

    [Fact]
    public void Reader_from_the_writers_log_reads_everything_in_order()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("reader", Options(retained: 16, segment: 4));
        using (writer)
        using (log)
        using (var reader = log.CreateReader())
        {
            Assert.False(reader.TryRead(out _));
            long next = 0;
            for (int round = 0; round < 50; round++)
            {
                for (int i = 0; i < 3; i++)
                {
                    writer.Append(writer.NextSequence);
                }

                while (reader.TryRead(out var record))
                {
                    Assert.Equal(next, record.Sequence);
                    Assert.Equal(next, record.Read<long>());
                    Assert.True(reader.Validate());
                    next++;
                }
            }

            Assert.Equal(150, next);
            Assert.Equal(0, reader.LostCount);
        }
    }

    [Fact]
    public void ReadFrom_latest_starts_after_existing_records()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("latest", Options());
        using (writer)
        using (log)
        {
            for (long i = 0; i < 5; i++)
            {
                writer.Append(i);
            }

            using var reader = log.CreateReader(ReadFrom.Latest);
            Assert.Equal(5, reader.NextSequence);
            Assert.False(reader.TryRead(out _));
            writer.Append(5L);
            Assert.True(reader.TryRead(out var record));
            Assert.Equal(5, record.Sequence);
        }
    }

    [Fact]
    public void Writer_drop_and_reclaim_continues_at_the_next_sequence_and_a_second_claim_is_refused()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("reclaim", Options());
        using (log)
        {
            writer.Append(0L);
            writer.Append(1L);
            writer.Append(2L);
            Assert.False(log.TryClaimWriter(out _));
            using (var other = SegmentedLog.Open("reclaim", _dir.Path))
            {
                Assert.False(other.TryClaimWriter(out _));
            }

            writer.Dispose();
            Assert.Throws<ObjectDisposedException>(() => writer.Append(3L));

            using var reopened = SegmentedLog.Open("reclaim", _dir.Path);
            Assert.True(reopened.TryClaimWriter(out var second));
            using (second)
            {
                Assert.Equal(3, second.NextSequence);
                Assert.Equal(3, second.Append(3L));
                Assert.False(log.TryClaimWriter(out _));
            }

            using var snapshot = log.Snapshot();
            Assert.Equal([0, 1, 2, 3], Sequences(snapshot));
        }
    }

    [Fact]
    public void Claim_commit_and_buffer_writer_write_in_place()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("claim", Options(retained: 8, segment: 4, segmentBytes: 256));
        using (writer)
        using (log)
        {
            var claim = writer.Claim(5, typeId: 9);
            "hello"u8.CopyTo(claim.Span);
            Assert.Equal(0, claim.Sequence);
            claim.Commit();

            var shorter = writer.Claim(100);
            "abc"u8.CopyTo(shorter.Span);
            shorter.Commit(3);

            // Abandoned claim: discarded by the next append.
            var abandoned = writer.Claim(10);
            abandoned.Span.Fill(0xEE);
            writer.Append("after"u8);

            var builder = writer.BeginRecord(typeId: 3);
            using (var stream = builder.AsStream())
            {
                // Grows past what is left in the 256-byte segment, forcing a move to a fresh one.
                for (int i = 0; i < 20; i++)
                {
                    stream.Write(Encoding.ASCII.GetBytes($"{i:D9}|"));
                }
            }

            Assert.Equal(3, builder.Commit());

            using var snapshot = log.Snapshot();
            Assert.Equal(4, snapshot.Count);
            Assert.True(snapshot.TryGet(0, out var r0));
            Assert.Equal("hello", Encoding.ASCII.GetString(r0.Payload));
            Assert.Equal(9, r0.TypeId);
            Assert.True(snapshot.TryGet(1, out var r1));
            Assert.Equal("abc", Encoding.ASCII.GetString(r1.Payload));
            Assert.True(snapshot.TryGet(2, out var r2));
            Assert.Equal("after", Encoding.ASCII.GetString(r2.Payload));
            Assert.True(snapshot.TryGet(3, out var r3));
            Assert.Equal(3, r3.TypeId);
            Assert.Equal(string.Concat(Enumerable.Range(0, 20).Select(i => $"{i:D9}|")), Encoding.ASCII.GetString(r3.Payload));
        }
    }

    [Fact]
    public void Records_of_varying_size_seal_segments_by_bytes()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("bytes", Options(retained: 64, segment: 16, segmentBytes: 512));
        using (writer)
        using (log)
        {
            var buffer = new byte[600];
            for (long i = 0; i < 300; i++)
            {
                int length = Payloads.Fill(buffer, i, 16, 400);
                writer.Append(buffer.AsSpan(0, length));
            }

            Assert.Throws<ArgumentOutOfRangeException>(() => writer.Append(new byte[505]));
            Assert.Equal(504, writer.MaxPayloadLength);
            writer.Append(new byte[504]);

            using var snapshot = log.Snapshot();
            long expected = snapshot.FirstSequence;
            foreach (var record in snapshot)
            {
                Assert.Equal(expected, record.Sequence);
                if (record.Sequence < 300)
                {
                    Assert.True(Payloads.Verify(record.Payload, record.Sequence));
                }

                expected++;
            }

            Assert.Equal(301, expected);
        }
    }

    [Fact]
    public void Held_snapshot_pins_segments_until_released()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("pin", Options(retained: 8, segment: 4, spare: 1));
        using (writer)
        using (log)
        {
            for (long i = 0; i < 8; i++)
            {
                writer.Append(i);
            }

            var snapshot = log.Snapshot();
            Assert.Equal(0, snapshot.FirstSequence);

            // 4 slots: gens 0,1 pinned by the snapshot, so the writer can fill gens 2 and 3 and then must reuse slot 0.
            long appended = 0;
            while (writer.TryAppend(BitConverter.GetBytes(writer.NextSequence), out _))
            {
                appended++;
                Assert.True(appended < 100, "the writer should have run out of free slots");
            }

            Assert.Equal(8, appended);
            Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], Sequences(snapshot));

            snapshot.Dispose();
            Assert.True(writer.TryAppend(BitConverter.GetBytes(writer.NextSequence), out long sequence));
            Assert.Equal(16, sequence);
        }
    }

    [Fact]
    public void Bounded_retention_a_million_appends_never_grow_the_file()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("bounded", Options(retained: 1000, segment: 256));
        using (writer)
        using (log)
        {
            long length = new FileInfo(log.FilePath).Length;
            Span<byte> payload = stackalloc byte[64];
            for (long i = 0; i < 1_000_000; i++)
            {
                BitConverter.TryWriteBytes(payload, i);
                writer.Append(payload);
            }

            Assert.Equal(length, new FileInfo(log.FilePath).Length);
            using var snapshot = log.Snapshot();
            Assert.Equal(1_000_000, snapshot.NextSequence);
            Assert.InRange(snapshot.Count, 1000, 1000 + 256 + 256);
            Assert.True(snapshot.TryGet(999_999, out var last));
            Assert.Equal(999_999, BitConverter.ToInt64(last.Payload));
        }
    }

    [Fact]
    public void Evicted_reader_counts_exactly_what_it_lost()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("evict", Options(retained: 8, segment: 4, policy: SlowReaderPolicy.Evict, spare: 1));
        using (writer)
        using (log)
        using (var reader = log.CreateReader())
        {
            long received = 0;
            for (long i = 0; i < 10_000; i++)
            {
                writer.Append(i);
                if (i % 37 == 0)
                {
                    while (reader.TryRead(out var record))
                    {
                        long value = record.Read<long>();
                        if (reader.Validate())
                        {
                            Assert.Equal(record.Sequence, value);
                            received++;
                        }
                    }
                }
            }

            while (reader.TryRead(out var record))
            {
                Assert.Equal(record.Sequence, record.Read<long>());
                if (reader.Validate())
                {
                    received++;
                }
            }

            Assert.True(reader.LostCount > 0, "a reader that reads every 37 appends must be lapped in a 16-record log");
            Assert.Equal(10_000, received + reader.LostCount);
        }
    }

    [Fact]
    public void Evicted_snapshot_throws_until_refreshed()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("evictsnap", Options(retained: 8, segment: 4, policy: SlowReaderPolicy.Evict, spare: 0));
        using (writer)
        using (log)
        {
            for (long i = 0; i < 8; i++)
            {
                writer.Append(i);
            }

            using var snapshot = log.Snapshot();
            for (long i = 8; i < 40; i++)
            {
                writer.Append(i);
            }

            Assert.Throws<ReaderEvictedException>(() => snapshot.TryGet(0, out _));
            Assert.Throws<ReaderEvictedException>(() => Sequences(snapshot));
            snapshot.Refresh();
            Assert.Equal(40, snapshot.NextSequence);
            Assert.Equal(Enumerable.Range((int)snapshot.FirstSequence, (int)snapshot.Count).Select(i => (long)i), Sequences(snapshot));
        }
    }

    [Fact]
    public void Dead_handles_throw_ObjectDisposedException()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("disposed", Options());
        var reader = log.CreateReader();
        var snapshot = log.Snapshot();
        writer.Append(1L);
        log.Dispose();

        // Children keep the mapping alive after the log handle is disposed.
        Assert.True(reader.TryRead(out var record));
        Assert.Equal(1, record.Read<long>());
        reader.Dispose();
        snapshot.Dispose();
        writer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => reader.TryRead(out _));
        Assert.Throws<ObjectDisposedException>(() => snapshot.Refresh());
        Assert.Throws<ObjectDisposedException>(() => log.Snapshot());
        Assert.Throws<ObjectDisposedException>(() => log.CreateReader());
        Assert.Throws<ObjectDisposedException>(() => writer.Append(2L));
    }
}

public sealed class LogStatusTests : IDisposable
{
    private readonly Infrastructure.TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Status_reports_window_writer_and_readers()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("status", new SegmentedLogOptions { SegmentCapacity = 4, RetainedCapacity = 8, Directory = _dir.Path });
        using (log)
        {
            using var reader = log.CreateReader();
            for (long i = 0; i < 10; i++)
            {
                writer.Append(i);
            }

            using var snapshot = log.Snapshot();
            var status = log.GetStatus();
            Assert.Equal(2, status.HeadGeneration);
            Assert.Equal(0, status.OldestGeneration);
            Assert.Equal(0, status.FirstSequence);
            Assert.Equal(10, status.NextSequence);
            Assert.Equal(Environment.ProcessId, status.WriterProcessId);
            Assert.True(status.WriterAlive);
            Assert.Equal(2, status.Readers.Count);
            Assert.Contains(status.Readers, r => r.IsSnapshot && r.Pin == 0 && r.IsAlive);
            Assert.Contains(status.Readers, r => !r.IsSnapshot && r.ProcessId == Environment.ProcessId);

            writer.Dispose();
            Assert.Equal(0, log.GetStatus().WriterProcessId);
            Assert.False(log.GetStatus().WriterAlive);
        }
    }
}
