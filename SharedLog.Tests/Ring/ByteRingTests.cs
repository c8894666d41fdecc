using SharedLog.Layout;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Ring;

public sealed class ByteRingTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private ByteRingOptions Options(int capacity = 64, SlowReaderPolicy policy = SlowReaderPolicy.Block, int timeoutMs = 60_000, int maxReaders = 8)
        => new()
        {
            Capacity = capacity,
            SlowReaderPolicy = policy,
            SlowReaderTimeout = TimeSpan.FromMilliseconds(timeoutMs),
            MaxReaders = maxReaders,
            Directory = _dir.Path,
        };

    private static byte[] ReadAvailable(RingReader reader)
    {
        var all = new List<byte>();
        var buffer = new byte[37];
        int read;
        while ((read = reader.Read(buffer)) > 0)
        {
            all.AddRange(buffer.AsSpan(0, read).ToArray());
        }

        return [.. all];
    }

    [Fact]
    public void Bytes_written_are_read_back_in_order_and_positions_grow()
    {
        var (writer, ring) = ByteRing.CreateClaimed("basic", Options(capacity: 64));
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            Assert.Equal(0, reader.Read(new byte[8]));
            long position = 0;
            for (int round = 0; round < 40; round++)
            {
                int length = 1 + (round * 7 % 50);
                Assert.Equal(length, writer.Write(RingContent.Make(position, length)));
                position += length;
                Assert.Equal(position, writer.Position);
                Assert.Equal(position, ring.WriterPosition);
                Assert.Equal(length, reader.Available);

                byte[] read = ReadAvailable(reader);
                Assert.Equal(length, read.Length);
                Assert.Equal(-1, RingContent.Mismatch(read, position - length));
                Assert.Equal(position, reader.Position);
            }

            Assert.Equal(0, reader.LostBytes);
        }
    }

    [Fact]
    public void Options_and_names_are_validated()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ByteRing.Create("bad", Options(capacity: 100)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ByteRing.Create("bad", Options(capacity: 8)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ByteRing.Create("bad", Options(maxReaders: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ByteRing.Create("bad", Options(timeoutMs: -1)));
        Assert.Throws<ArgumentException>(() => ByteRing.Create("../escape", Options()));
        Assert.Throws<ArgumentException>(() => ByteRing.Create(".hidden", Options()));
        Assert.False(File.Exists(Path.Combine(_dir.Path, "bad")));

        using var ring = ByteRing.Create("exists", Options());
        Assert.Throws<SharedLogException>(() => ByteRing.Create("exists", Options()));
        Assert.Contains("Capacity 64", Assert.Throws<ArgumentException>(() => ByteRing.OpenOrCreate("exists", Options(capacity: 1024))).Message, StringComparison.Ordinal);
        using (var same = ByteRing.OpenOrCreate("exists", Options()))
        {
            Assert.Equal(ring.FilePath, same.FilePath);
            Assert.Equal(64, same.Capacity);
        }

        using (var created = ByteRing.OpenOrCreate("fresh", Options(capacity: 1024)))
        {
            Assert.Equal(1024, created.Capacity);
        }

        Assert.Throws<SharedLogException>(() => ByteRing.Open("missing", _dir.Path));
        Assert.True(ByteRing.Delete("exists", _dir.Path));
        Assert.False(ByteRing.Delete("exists", _dir.Path));
    }

    [Fact]
    public void One_writer_at_a_time_and_a_new_writer_continues_where_the_last_one_stopped()
    {
        var (writer, ring) = ByteRing.CreateClaimed("lease", Options(capacity: 64));
        using (ring)
        using (var reader = ring.CreateReader())
        {
            writer.Write(RingContent.Make(0, 10));
            Assert.False(ring.TryClaimWriter(out _));
            using (var other = ByteRing.Open("lease", _dir.Path))
            {
                Assert.False(other.TryClaimWriter(out _));
                Assert.Equal(Environment.ProcessId, other.WriterProcessId);
            }

            // Dispose releases the lease but does not complete the stream.
            writer.Dispose();
            Assert.Throws<ObjectDisposedException>(() => writer.Write(new byte[1]));
            Assert.False(ring.IsCompleted);
            Assert.Equal(0, ring.WriterProcessId);

            using var reopened = ByteRing.Open("lease", _dir.Path);
            Assert.True(reopened.TryClaimWriter(out var second));
            using (second)
            {
                Assert.Equal(10, second.Position);
                second.Write(RingContent.Make(10, 20));
                Assert.False(ring.TryClaimWriter(out _));
            }

            byte[] read = ReadAvailable(reader);
            Assert.Equal(30, read.Length);
            Assert.Equal(-1, RingContent.Mismatch(read, 0));
            Assert.False(reader.IsCompleted);
        }
    }

    [Fact]
    public void Vectored_spans_are_exact_at_every_wrap_position_and_length()
    {
        const int Capacity = 16;
        var (writer, ring) = ByteRing.CreateClaimed("wrap", Options(capacity: Capacity));
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            // Three laps, so every start index is visited with positions beyond the first lap too.
            for (int lap = 0; lap < 3; lap++)
            {
                for (int start = 0; start < Capacity; start++)
                {
                    for (int length = 0; length <= Capacity; length++)
                    {
                        // Move the writer (and the caught-up reader) to index `start`.
                        int filler = (int)((start - (writer.Position % Capacity) + Capacity) % Capacity);
                        Assert.Equal(filler, writer.Write(RingContent.Make(writer.Position, filler)));
                        Assert.Equal(filler, ReadAvailable(reader).Length);
                        long position = writer.Position;
                        Assert.Equal(start, (int)(position % Capacity));

                        int free = writer.GetWriteSpans(out var first, out var second);
                        Assert.Equal(Capacity, free);
                        Assert.Equal(Capacity - start, first.Length);
                        Assert.Equal(start, second.Length);
                        var content = RingContent.Make(position, length).AsSpan();
                        int inFirst = Math.Min(length, first.Length);
                        content[..inFirst].CopyTo(first);
                        content[inFirst..].CopyTo(second);
                        writer.Advance(length);
                        Assert.Equal(position + length, writer.Position);

                        int available = reader.GetReadSpans(out var r1, out var r2);
                        Assert.Equal(length, available);
                        Assert.Equal(Math.Min(length, Capacity - start), r1.Length);
                        Assert.Equal(length - r1.Length, r2.Length);
                        Assert.Equal(-1, RingContent.Mismatch(r1, position));
                        Assert.Equal(-1, RingContent.Mismatch(r2, position + r1.Length));
                        Assert.True(reader.Validate());
                        reader.Advance(length);
                        Assert.Equal(position + length, reader.Position);
                    }
                }
            }

            Assert.Equal(0, reader.LostBytes);
        }
    }

    [Fact]
    public void Read_and_write_copies_split_correctly_across_the_wrap()
    {
        const int Capacity = 64;
        var (writer, ring) = ByteRing.CreateClaimed("copywrap", Options(capacity: Capacity));
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            for (int start = 0; start < Capacity; start++)
            {
                for (int length = 1; length <= Capacity; length += 5)
                {
                    long position = writer.Position;
                    Assert.Equal(length, writer.Write(RingContent.Make(position, length)));
                    var buffer = new byte[length];
                    Assert.Equal(length, reader.Read(buffer));
                    Assert.Equal(-1, RingContent.Mismatch(buffer, position));
                }

                writer.Write(RingContent.Make(writer.Position, 1));
                reader.Read(new byte[1]);
            }

            Assert.Equal(0, reader.LostBytes);
        }
    }

    [Fact]
    public void ReadFrom_oldest_starts_at_writer_minus_capacity_and_latest_at_the_writer()
    {
        var (writer, ring) = ByteRing.CreateClaimed("from", Options(capacity: 64));
        using (writer)
        using (ring)
        {
            writer.Write(RingContent.Make(0, 40));
            using (var early = ring.CreateReader(ReadFrom.Oldest))
            {
                Assert.Equal(0, early.Position);
            }

            // No live reader: the writer never waits and overwrites the oldest bytes.
            Assert.Equal(160, writer.Write(RingContent.Make(40, 160)));
            Assert.Equal(200 - 64, ring.OldestPosition);

            using var oldest = ring.CreateReader(ReadFrom.Oldest);
            using var latest = ring.CreateReader(ReadFrom.Latest);
            Assert.Equal(136, oldest.Position);
            Assert.Equal(200, latest.Position);
            byte[] read = ReadAvailable(oldest);
            Assert.Equal(64, read.Length);
            Assert.Equal(-1, RingContent.Mismatch(read, 136));
            Assert.Empty(ReadAvailable(latest));

            writer.Write(RingContent.Make(200, 5));
            read = ReadAvailable(latest);
            Assert.Equal(-1, RingContent.Mismatch(read, 200));
            Assert.Equal(5, read.Length);
        }
    }

    [Theory]
    [InlineData(SlowReaderPolicy.Block)]
    [InlineData(SlowReaderPolicy.Evict)]
    public void The_tail_moves_in_chunks_and_the_window_keeps_the_capacity_less_at_most_one_chunk(SlowReaderPolicy policy)
    {
        const int Capacity = 4096;
        int chunk = RingLayout.TailChunk(Capacity);
        Assert.Equal(64, chunk);
        var (writer, ring) = ByteRing.CreateClaimed("chunks", Options(capacity: Capacity, policy: policy));
        using (writer)
        using (ring)
        {
            var random = new Random(7);
            long position = 0;
            long last = 0;
            int writes = 0;
            int moves = 0;
            while (position < 20 * Capacity)
            {
                int size = random.Next(1, 17);
                Assert.Equal(size, writer.Write(RingContent.Make(position, size)));
                position += size;
                writes++;
                long oldest = ring.OldestPosition;
                long needed = Math.Max(0, position - Capacity);
                if (needed == 0)
                {
                    Assert.Equal(0, oldest);
                    continue;
                }

                // At the chunk boundary at or above what the writes needed: never more than a chunk of the window lost.
                Assert.Equal((needed + chunk - 1) / chunk * chunk, oldest);
                if (oldest != last)
                {
                    moves++;
                    last = oldest;
                }
            }

            // Once per chunk, not once per write.
            Assert.InRange(moves, 1, (position - Capacity) / chunk + 1);
            Assert.True(writes > 4 * moves, $"{writes} writes moved the tail {moves} times");

            using var reader = ring.CreateReader(ReadFrom.Oldest);
            Assert.Equal(last, reader.Position);
            byte[] read = ReadAvailable(reader);
            Assert.Equal(position - last, read.Length);
            Assert.Equal(-1, RingContent.Mismatch(read, last));
            Assert.Equal(0, reader.LostBytes);
        }
    }

    [Fact]
    public void Under_block_the_tail_rounds_up_to_a_chunk_only_as_far_as_the_slowest_pin()
    {
        const int Capacity = 4096;
        var (writer, ring) = ByteRing.CreateClaimed("chunkpin", Options(capacity: Capacity));
        using (writer)
        using (ring)
        {
            Assert.Equal(5000, writer.Write(RingContent.Make(0, 5000)));

            // A reader pinned at 5003, which is not a chunk boundary, then 100 bytes more: the writer may use every
            // byte up to the pin (the raise stops there instead of failing at the boundary above it), no more.
            writer.Write(RingContent.Make(5000, 3));
            using var reader = ring.CreateReader(ReadFrom.Latest);
            Assert.Equal(5003, reader.Position);
            Assert.Equal(100, writer.Write(RingContent.Make(5003, 100)));
            Assert.Equal(Capacity - 100, writer.Write(RingContent.Make(5103, 2 * Capacity)));
            Assert.Equal(0, writer.Write(RingContent.Make(5003 + Capacity, 1)));
            Assert.Equal(5003, ring.OldestPosition);

            byte[] read = ReadAvailable(reader);
            Assert.Equal(Capacity, read.Length);
            Assert.Equal(-1, RingContent.Mismatch(read, 5003));
            Assert.Equal(0, reader.LostBytes);
        }
    }

    [Fact]
    public void Seek_moves_within_the_window_and_refuses_overwritten_or_unwritten_positions()
    {
        var (writer, ring) = ByteRing.CreateClaimed("seek", Options(capacity: 64));
        using (writer)
        using (ring)
        {
            writer.Write(RingContent.Make(0, 200));
            using var reader = ring.CreateReader(ReadFrom.Latest);

            reader.Seek(136);
            Assert.Equal(136, reader.Position);
            byte[] read = ReadAvailable(reader);
            Assert.Equal(64, read.Length);
            Assert.Equal(-1, RingContent.Mismatch(read, 136));

            reader.Seek(199);
            Assert.Equal(RingContent.At(199), ReadAvailable(reader).Single());

            reader.Seek(200);
            Assert.Equal(0, reader.Read(new byte[4]));

            var beyond = Assert.Throws<ArgumentOutOfRangeException>(() => reader.Seek(201));
            Assert.Contains("beyond the writer position 200", beyond.Message, StringComparison.Ordinal);
            var overwritten = Assert.Throws<ArgumentOutOfRangeException>(() => reader.Seek(135));
            Assert.Contains("already overwritten", overwritten.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentOutOfRangeException>(() => reader.Seek(0));
            Assert.Throws<ArgumentOutOfRangeException>(() => reader.Seek(-1));
            Assert.Equal(200, reader.Position);

            // The reader pins 200 now, so under Block the writer may only reuse up to 200 + 64 - 200 = 64 bytes of
            // space; handing out 10 of them gives up 10 more bytes of history.
            Assert.Equal(10, writer.GetWriteSpans(10, out _, out _));
            Assert.Equal(146, ring.OldestPosition);
            Assert.Throws<ArgumentOutOfRangeException>(() => reader.Seek(145));
            reader.Seek(146);
            read = ReadAvailable(reader);
            Assert.Equal(54, read.Length);
            Assert.Equal(-1, RingContent.Mismatch(read, 146));
            Assert.Equal(0, reader.LostBytes);
        }
    }

    [Fact]
    public void Seeking_back_pins_again_so_a_blocking_writer_respects_it()
    {
        var (writer, ring) = ByteRing.CreateClaimed("seekpin", Options(capacity: 64));
        using (writer)
        using (ring)
        {
            writer.Write(RingContent.Make(0, 64));
            using var reader = ring.CreateReader(ReadFrom.Latest);
            Assert.Equal(64, writer.Write(RingContent.Make(64, 100)));

            // Caught up at 128; seek back to the oldest byte: the writer must not overwrite it now.
            ReadAvailable(reader);
            Assert.Equal(128, reader.Position);
            reader.Seek(ring.OldestPosition);
            Assert.Equal(64, reader.Position);
            Assert.Equal(0, writer.Write(RingContent.Make(128, 1)));

            byte[] read = new byte[16];
            Assert.Equal(16, reader.Read(read));
            Assert.Equal(-1, RingContent.Mismatch(read, 64));
            Assert.Equal(16, writer.Write(RingContent.Make(128, 20)));
            Assert.Equal(0, reader.LostBytes);
        }
    }

    [Fact]
    public void Block_writer_writes_what_fits_and_never_overwrites_a_live_reader()
    {
        var (writer, ring) = ByteRing.CreateClaimed("block", Options(capacity: 64));
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            Assert.Equal(64, writer.Write(RingContent.Make(0, 100)));
            Assert.Equal(0, writer.Write(RingContent.Make(64, 1)));
            Assert.Equal(0, writer.GetWriteSpans(out var first, out var second));
            Assert.True(first.IsEmpty && second.IsEmpty);

            var buffer = new byte[10];
            Assert.Equal(10, reader.Read(buffer));
            Assert.Equal(10, writer.Write(RingContent.Make(64, 30)));

            byte[] rest = ReadAvailable(reader);
            Assert.Equal(64, rest.Length);
            Assert.Equal(-1, RingContent.Mismatch(rest, 10));
            Assert.Equal(0, reader.LostBytes);
        }
    }

    [Fact]
    public void Block_writer_rescans_the_reader_table_only_when_its_cached_slowest_position_says_the_space_is_short()
    {
        var (writer, ring) = ByteRing.CreateClaimed("cache", Options(capacity: 64));
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            Assert.Equal(long.MaxValue, ring.CachedMinReaderPosition);

            // The first write scans (a reader joined): the slowest is at 0.
            Assert.Equal(10, writer.Write(new byte[10]));
            Assert.Equal(0, ring.CachedMinReaderPosition);

            // The reader moves to 10; the cache (0) still says 54 bytes are free, so 40 bytes need no scan.
            Assert.Equal(10, reader.Read(new byte[10]));
            Assert.Equal(40, writer.Write(new byte[40]));
            Assert.Equal(0, ring.CachedMinReaderPosition);

            // 20 more do not fit by the cache (14 free): the writer rescans, finds the reader at 10, and 24 fit.
            Assert.Equal(20, writer.Write(new byte[20]));
            Assert.Equal(10, ring.CachedMinReaderPosition);

            // A reader joining below the cache (at the oldest intact byte, 70 - 64) makes the writer rescan before it
            // overwrites anything.
            using var late = ring.CreateReader(ReadFrom.Oldest);
            Assert.Equal(6, late.Position);
            Assert.Equal(60, reader.Read(new byte[64]));
            Assert.Equal(0, writer.Write(new byte[1]));
            Assert.Equal(6, ring.CachedMinReaderPosition);
            Assert.Equal(64, late.Read(new byte[64]));
            Assert.Equal(0, late.LostBytes);
        }
    }

    [Fact]
    public async Task Block_writer_evicts_the_slowest_reader_after_the_timeout_and_the_reader_counts_its_loss()
    {
        var (writer, ring) = ByteRing.CreateClaimed("timeout", Options(capacity: 64, timeoutMs: 50));
        using (writer)
        using (ring)
        using (var slow = ring.CreateReader())
        {
            await writer.WriteAsync(RingContent.Make(0, 200)).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(200, writer.Position);

            byte[] read = ReadAvailable(slow);
            Assert.Equal(-1, RingContent.Mismatch(read, slow.Position - read.Length));
            Assert.Equal(200, slow.Position);
            Assert.True(slow.LostBytes > 0, "the writer had to overwrite the slow reader to finish");
            Assert.Equal(200, read.Length + slow.LostBytes);

            // Having read again, the reader is protected again: the writer can fill the ring but no more.
            Assert.Equal(64, writer.Write(RingContent.Make(200, 100)));
            Assert.Equal(0, writer.Write(RingContent.Make(264, 1)));
        }
    }

    [Fact]
    public void Evict_reader_counts_exactly_what_it_lost_with_copies_and_with_spans()
    {
        const long Total = 4 << 20;
        var (writer, ring) = ByteRing.CreateClaimed("evict", Options(capacity: 4096, policy: SlowReaderPolicy.Evict));
        using (writer)
        using (ring)
        using (var copying = ring.CreateReader())
        using (var spans = ring.CreateReader())
        {
            long copied = 0;
            long viaSpans = 0;
            int overwrittenWhileHeld = 0;
            string? failure = null;
            var random = new Random(7);
            var chunk = new byte[3000];
            var buffer = new byte[1500];
            while (writer.Position < Total)
            {
                // The span reader takes spans before a write and looks at them after it, so they are sometimes
                // overwritten while held: Validate must say so whenever the bytes are wrong.
                bool holding = random.Next(3) == 0;
                int held = spans.GetReadSpans(out var first, out var second);

                // After GetReadSpans: it may skip to the oldest intact byte first (counted lost).
                long heldAt = spans.Position;

                int length = (int)Math.Min(random.Next(1, chunk.Length), Total - writer.Position);
                RingContent.Fill(chunk.AsSpan(0, length), writer.Position);
                Assert.Equal(length, writer.Write(chunk.AsSpan(0, length)));

                if (holding)
                {
                    int take = Math.Min(held, random.Next(1, 2000));
                    int inFirst = Math.Min(take, first.Length);
                    bool correct = RingContent.Mismatch(first[..inFirst], heldAt) < 0
                        && RingContent.Mismatch(second[..(take - inFirst)], heldAt + first.Length) < 0;
                    if (spans.Validate())
                    {
                        if (!correct)
                        {
                            failure ??= $"span reader: validated bytes at {heldAt} are wrong";
                        }

                        viaSpans += take;
                    }
                    else
                    {
                        overwrittenWhileHeld++;
                    }

                    spans.Advance(take);
                }

                if (random.Next(4) == 0)
                {
                    int read = copying.Read(buffer.AsSpan(0, random.Next(1, buffer.Length)));
                    if (RingContent.Mismatch(buffer.AsSpan(0, read), copying.Position - read) is var bad and >= 0)
                    {
                        failure ??= $"copying reader: wrong byte at {copying.Position - read + bad}";
                    }

                    copied += read;
                }
            }

            writer.Complete();
            copied += ReadAvailable(copying).Length;
            Assert.True(copying.IsCompleted);
            while (!spans.IsCompleted)
            {
                int available = spans.GetReadSpans(out var first, out var second);
                Assert.True(spans.Validate());
                Assert.Equal(-1, RingContent.Mismatch(first, spans.Position));
                Assert.Equal(-1, RingContent.Mismatch(second, spans.Position + first.Length));
                viaSpans += available;
                spans.Advance(available);
            }

            Assert.Null(failure);
            Assert.True(overwrittenWhileHeld > 0, "spans held across writes bigger than the free space must be overwritten sometimes");
            Assert.True(copying.LostBytes > 0 && spans.LostBytes > 0, "readers that read less than is written must be overwritten");
            Assert.Equal(Total, copied + copying.LostBytes);
            Assert.Equal(Total, viaSpans + spans.LostBytes);
        }
    }

    [Fact]
    public async Task Evict_with_concurrent_writer_thread_every_received_byte_is_correct_and_accounting_is_exact()
    {
        const long Total = 16 << 20;
        var (writer, ring) = ByteRing.CreateClaimed("evict-threads", Options(capacity: 16 * 1024, policy: SlowReaderPolicy.Evict));
        using (ring)
        using (var reader = ring.CreateReader())
        {
            var writing = Task.Run(() =>
            {
                using (writer)
                {
                    var random = new Random(11);
                    var chunk = new byte[8192];
                    while (writer.Position < Total)
                    {
                        int length = (int)Math.Min(random.Next(1, chunk.Length), Total - writer.Position);
                        RingContent.Fill(chunk.AsSpan(0, length), writer.Position);
                        writer.Write(chunk.AsSpan(0, length));
                    }

                    writer.Complete();
                }
            });

            long received = 0;
            var buffer = new byte[700];
            while (true)
            {
                int read = await reader.ReadAsync(buffer);
                if (read == 0)
                {
                    break;
                }

                Assert.Equal(-1, RingContent.Mismatch(buffer.AsSpan(0, read), reader.Position - read));
                received += read;
            }

            await writing;
            Assert.True(reader.IsCompleted);
            Assert.Equal(Total, reader.Position);
            Assert.Equal(Total, received + reader.LostBytes);
        }
    }

    [Fact]
    public async Task Block_with_concurrent_threads_three_readers_lose_nothing()
    {
        const long Total = 2 << 20;
        var (writer, ring) = ByteRing.CreateClaimed("block-threads", Options(capacity: 16 * 1024));
        using (ring)
        {
            var readers = Enumerable.Range(0, 3).Select(_ => ring.CreateReader()).ToArray();
            var reading = readers.Select((reader, index) => Task.Run(async () =>
            {
                var buffer = new byte[100 + (index * 1000)];
                long received = 0;
                int read;
                while ((read = await reader.ReadAsync(buffer)) > 0)
                {
                    if (RingContent.Mismatch(buffer.AsSpan(0, read), reader.Position - read) >= 0)
                    {
                        return -1;
                    }

                    received += read;
                }

                return received;
            })).ToArray();

            using (writer)
            {
                var chunk = new byte[5000];
                var random = new Random(3);
                while (writer.Position < Total)
                {
                    int length = (int)Math.Min(random.Next(1, chunk.Length), Total - writer.Position);
                    RingContent.Fill(chunk.AsSpan(0, length), writer.Position);
                    await writer.WriteAsync(chunk.AsMemory(0, length));
                }

                writer.Complete();
            }

            Assert.All(await Task.WhenAll(reading), received => Assert.Equal(Total, received));
            Assert.All(readers, r => Assert.Equal(0, r.LostBytes));
            foreach (var reader in readers)
            {
                reader.Dispose();
            }
        }
    }

    [Fact]
    public async Task End_of_stream_readers_drain_then_read_zero_and_complete_is_idempotent()
    {
        var (writer, ring) = ByteRing.CreateClaimed("eos", Options(capacity: 64));
        using (ring)
        using (var reader = ring.CreateReader())
        {
            writer.Write(RingContent.Make(0, 50));
            Assert.False(ring.IsCompleted);
            writer.Complete();
            writer.Complete();
            Assert.True(writer.IsCompleted);
            Assert.True(ring.IsCompleted);
            Assert.Throws<InvalidOperationException>(() => writer.Write(new byte[1]));
            Assert.Throws<InvalidOperationException>(() => writer.GetWriteSpans(out _, out _));

            Assert.False(reader.IsCompleted);
            var buffer = new byte[30];
            Assert.Equal(30, await reader.ReadAsync(buffer));
            Assert.Equal(20, await reader.ReadAsync(buffer));
            Assert.True(reader.IsCompleted);
            Assert.Equal(0, await reader.ReadAsync(buffer));
            Assert.Equal(0, reader.Read(buffer));
            Assert.True(await reader.WaitAsync());
            Assert.True(reader.Wait(TimeSpan.Zero));

            // A reader created after the end still drains what is retained.
            using var late = ring.CreateReader();
            Assert.Equal(50, ReadAvailable(late).Length);
            Assert.Equal(0, await late.ReadAsync(buffer));

            // The end survives the writer: a new writer sees it and cannot write.
            writer.Dispose();
            Assert.True(ring.TryClaimWriter(out var next));
            using (next)
            {
                Assert.True(next.IsCompleted);
                Assert.Equal(50, next.Position);
                Assert.Throws<InvalidOperationException>(() => next.Write(new byte[1]));
                next.Complete();
            }
        }
    }

    [Fact]
    public async Task ReadAsync_and_WriteAsync_honour_cancellation()
    {
        var (writer, ring) = ByteRing.CreateClaimed("cancel", Options(capacity: 64));
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50)))
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await reader.ReadAsync(new byte[8], cts.Token));
            }

            using (var cts = new CancellationTokenSource())
            {
                cts.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await reader.ReadAsync(new byte[8], cts.Token));
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await writer.WriteAsync(new byte[8], cts.Token));
                Assert.Equal(0, writer.Position);
            }

            // The reader holds the ring full and the timeout is a minute: only cancellation ends the wait.
            using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50)))
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await writer.WriteAsync(RingContent.Make(0, 100), cts.Token));
            }

            Assert.Equal(64, writer.Position);
            byte[] read = ReadAvailable(reader);
            Assert.Equal(-1, RingContent.Mismatch(read, 0));
            Assert.Equal(64, read.Length);

            using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50)))
            {
                var stream = reader.AsStream();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => _ = await stream.ReadAsync(new byte[8], cts.Token));
            }
        }
    }

    [Fact]
    public void Memory_pairs_work_with_RandomAccess_across_the_wrap()
    {
        string path = _dir.File("source.bin");
        File.WriteAllBytes(path, RingContent.Make(0, 300));
        var (writer, ring) = ByteRing.CreateClaimed("memory", Options(capacity: 128));
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        using (var source = File.OpenHandle(path))
        using (var sink = File.OpenHandle(_dir.File("sink.bin"), FileMode.Create, FileAccess.Write))
        {
            // Start at index 100 so the free space wraps.
            writer.Write(RingContent.Make(0, 100));
            ReadAvailable(reader);
            var writerMemory = new List<Memory<byte>>(2);
            long offset = 100;
            while (offset < 300)
            {
                int free = writer.GetWriteMemory(out var first, out var second, maxLength: 90);
                Assert.True(free > 0);
                writerMemory.Clear();
                writerMemory.Add(first);
                writerMemory.Add(second);
                int read = (int)RandomAccess.Read(source, writerMemory, offset);
                writer.Advance(read);
                offset += read;

                var readerMemory = new List<ReadOnlyMemory<byte>>(2);
                int available = reader.GetReadMemory(out var r1, out var r2);
                Assert.Equal(read, available);
                readerMemory.Add(r1);
                readerMemory.Add(r2);
                RandomAccess.Write(sink, readerMemory, offset - read - 100);
                Assert.True(reader.Validate());
                reader.Advance(available);
            }

            Assert.Equal(300, writer.Position);
            Assert.Equal(300, reader.Position);
        }

        Assert.Equal(RingContent.Make(100, 200), File.ReadAllBytes(_dir.File("sink.bin")));
    }

    [Fact]
    public void Advance_beyond_what_was_handed_out_is_refused()
    {
        var (writer, ring) = ByteRing.CreateClaimed("advance", Options(capacity: 64));
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            Assert.Equal(8, writer.GetWriteSpans(8, out _, out _));
            Assert.Throws<ArgumentOutOfRangeException>(() => writer.Advance(9));
            writer.Advance(8);
            Assert.Throws<ArgumentOutOfRangeException>(() => writer.Advance(1));
            Assert.Throws<ArgumentOutOfRangeException>(() => reader.Advance(1));
            Assert.Equal(8, reader.GetReadSpans(out _, out _));
            Assert.Throws<ArgumentOutOfRangeException>(() => reader.Advance(9));
            reader.Advance(3);
            reader.Advance(5);
            Assert.Equal(8, reader.Position);
        }
    }

    [Fact]
    public void Readers_are_independent_and_a_full_table_is_reported()
    {
        var (writer, ring) = ByteRing.CreateClaimed("many", Options(capacity: 64, maxReaders: 3));
        using (writer)
        using (ring)
        {
            var readers = new[] { ring.CreateReader(), ring.CreateReader(), ring.CreateReader() };
            var full = Assert.Throws<SharedLogException>(() => ring.CreateReader());
            Assert.Contains("reader table", full.Message, StringComparison.Ordinal);

            writer.Write(RingContent.Make(0, 30));
            Assert.Equal(10, readers[0].Read(new byte[10]));
            Assert.Equal(30, ReadAvailable(readers[1]).Length);
            Assert.Equal(10, readers[0].Position);
            Assert.Equal(30, readers[1].Position);
            Assert.Equal(0, readers[2].Position);

            // The slowest live reader (readers[2] at 0) bounds the writer.
            Assert.Equal(34, writer.Write(RingContent.Make(30, 64)));
            readers[2].Dispose();
            Assert.Equal(10, writer.Write(RingContent.Make(64, 64)));
            using var replacement = ring.CreateReader(ReadFrom.Latest);
            Assert.Equal(74, replacement.Position);
            readers[0].Dispose();
            readers[1].Dispose();
        }
    }

    [Fact]
    public void Steady_state_write_and_read_paths_allocate_nothing()
    {
        const int Rounds = 20_000;
        var (writer, ring) = ByteRing.CreateClaimed("alloc", Options(capacity: 4096));
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            var data = RingContent.Make(0, 1000);
            var buffer = new byte[1000];
            var memory = buffer.AsMemory();
            int synchronous = 0;

            // No assertions inside: they allocate. Both async calls complete synchronously (space and data are there).
            void Round()
            {
                writer.Write(data);
                reader.Read(buffer);
                int free = writer.GetWriteSpans(500, out var first, out var second);
                data.AsSpan(0, first.Length).CopyTo(first);
                data.AsSpan(first.Length, second.Length).CopyTo(second);
                writer.Advance(free);
                int available = reader.GetReadSpans(out _, out _);
                reader.Validate();
                reader.Advance(available);
                writer.GetWriteMemory(out _, out _, 100);
                writer.Advance(100);
                reader.GetReadMemory(out _, out _);
                reader.Advance(100);
                var write = writer.WriteAsync(data.AsMemory(0, 300));
                var read = reader.ReadAsync(memory);
                if (write.IsCompletedSuccessfully && read.IsCompletedSuccessfully && read.Result == 300)
                {
                    synchronous++;
                }
            }

            for (int i = 0; i < Rounds; i++)
            {
                Round();
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Rounds; i++)
            {
                Round();
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            // Any allocation on these paths would cost at least 24 bytes a round; the runtime itself may allocate a
            // few hundred bytes once (tiered JIT), hence "less than a byte per round" rather than exactly 0.
            Assert.True(allocated < Rounds, $"{allocated} bytes allocated in {Rounds} rounds");
            Assert.Equal(2 * Rounds, synchronous);
            Assert.Equal(writer.Position, reader.Position);
            Assert.Equal(0, reader.LostBytes);
        }
    }

    [Fact]
    public void Disposed_handles_throw_and_readers_outlive_the_ring_handle()
    {
        var (writer, ring) = ByteRing.CreateClaimed("disposed", Options());
        var reader = ring.CreateReader();
        writer.Write(RingContent.Make(0, 5));
        ring.Dispose();

        Assert.Equal(5, ReadAvailable(reader).Length);
        Assert.False(reader.Wait(TimeSpan.FromMilliseconds(10)));
        reader.Dispose();
        writer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => reader.Read(new byte[1]));
        Assert.Throws<ObjectDisposedException>(() => writer.Write(new byte[1]));
        Assert.Throws<ObjectDisposedException>(() => ring.CreateReader());
        Assert.Throws<ObjectDisposedException>(() => ring.TryClaimWriter(out _));
        Assert.Throws<ObjectDisposedException>(() => _ = ring.WriterPosition);
    }
}
