using System.Buffers;
using System.IO.Pipelines;
using System.IO.Pipes;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Ring;

/// <summary>Stream and System.IO.Pipelines adaptors, and the readv/writev paths through real pipes.</summary>
public sealed class RingAdaptorTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private ByteRingOptions Options(int capacity = 4096, SlowReaderPolicy policy = SlowReaderPolicy.Block)
        => new() { Capacity = capacity, SlowReaderPolicy = policy, SlowReaderTimeout = TimeSpan.FromMinutes(5), Directory = _dir.Path };

    [Fact]
    public async Task Streams_copy_byte_exact_and_disposing_the_writer_stream_ends_the_reader_stream()
    {
        byte[] data = new byte[(1 << 20) + 333];
        new Random(1).NextBytes(data);
        var (writer, ring) = ByteRing.CreateClaimed("streams", Options());
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            var received = new MemoryStream();
            var reading = Task.Run(() => reader.AsStream().CopyTo(received, 1000));
            using (var source = new MemoryStream(data))
            using (var sink = writer.AsStream())
            {
                Assert.True(sink.CanWrite);
                Assert.False(sink.CanRead || sink.CanSeek);
                await source.CopyToAsync(sink, 777);
                sink.WriteByte(42);
            }

            Assert.True(writer.IsCompleted);
            await reading.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal([.. data, 42], received.ToArray());
            Assert.Equal(0, reader.LostBytes);
        }
    }

    [Fact]
    public void Reader_stream_seeks_within_the_window_and_reports_the_writer_position_as_length()
    {
        var (writer, ring) = ByteRing.CreateClaimed("seekstream", Options(capacity: 1024));
        using (writer)
        using (ring)
        {
            writer.Write(RingContent.Make(0, 5000));
            writer.Complete();
            using var reader = ring.CreateReader(ReadFrom.Latest);
            var stream = reader.AsStream();
            Assert.True(stream.CanRead && stream.CanSeek);
            Assert.False(stream.CanWrite);
            Assert.Equal(5000, stream.Length);
            Assert.Equal(5000, stream.Position);
            Assert.Equal(-1, stream.ReadByte());

            Assert.Equal(4990, stream.Seek(-10, SeekOrigin.End));
            var tail = new byte[10];
            stream.ReadExactly(tail);
            Assert.Equal(RingContent.Make(4990, 10), tail);
            Assert.Equal(0, stream.Read(tail));

            // The window is the last 1024 bytes less at most one tail chunk (16 bytes here): the tail sits at the
            // next chunk boundary above 5000 - 1024.
            long oldest = ring.OldestPosition;
            Assert.Equal(3984, oldest);
            stream.Position = oldest;
            var window = new byte[5000 - oldest];
            stream.ReadExactly(window);
            Assert.Equal(RingContent.Make(oldest, window.Length), window);
            Assert.Equal(4976, stream.Seek(-24, SeekOrigin.Current));
            stream.ReadExactly(window.AsSpan(0, 24));
            Assert.Equal(RingContent.Make(4976, 24), window.AsSpan(0, 24).ToArray());

            Assert.Throws<ArgumentOutOfRangeException>(() => stream.Position = oldest - 1);
            Assert.Throws<ArgumentOutOfRangeException>(() => stream.Seek(1, SeekOrigin.End));
            Assert.Throws<NotSupportedException>(() => stream.Write(new byte[1]));
            Assert.Throws<NotSupportedException>(() => stream.SetLength(0));
        }
    }

    [Fact]
    public async Task Pipe_writer_and_pipe_reader_carry_a_stream_byte_exact()
    {
        const long Total = 2L << 20;
        var (writer, ring) = ByteRing.CreateClaimed("pipes", Options(capacity: 4096));
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            var reading = Task.Run(async () =>
            {
                var pipe = reader.AsPipeReader();
                var random = new Random(21);
                long position = 0;
                while (true)
                {
                    var result = await pipe.ReadAsync();
                    var buffer = result.Buffer;
                    if (buffer.IsEmpty && result.IsCompleted)
                    {
                        break;
                    }

                    // Consume part of it; sometimes only examine, so the next read must wait for more (not when the
                    // ring is nearly full: a bounded ring, like a paused Pipe, cannot deliver more than it holds).
                    long take = random.Next(3) == 0 && buffer.Length < 1024 ? 0 : random.NextInt64(1, buffer.Length + 1);
                    byte[] bytes = buffer.Slice(0, take).ToArray();
                    Assert.Equal(-1, RingContent.Mismatch(bytes, position));
                    position += take;
                    pipe.AdvanceTo(buffer.GetPosition(take), buffer.End);
                }

                await pipe.CompleteAsync();
                return position;
            });

            var output = writer.AsPipeWriter();
            var rng = new Random(22);
            long written = 0;
            while (written < Total)
            {
                // Hints up to 3000 in a 4096-byte ring: sometimes the contiguous free space is too small and the
                // writer buffers, sometimes the bytes go straight into the ring.
                int hint = (int)Math.Min(rng.Next(0, 3000), Total - written);
                var memory = output.GetMemory(hint);
                Assert.True(memory.Length >= Math.Max(hint, 1));
                int length = (int)Math.Min(Math.Min(memory.Length, rng.Next(1, 3000)), Total - written);
                RingContent.Fill(memory.Span[..length], written);
                output.Advance(length);
                written += length;
                if (rng.Next(2) == 0)
                {
                    var flushed = await output.FlushAsync();
                    Assert.False(flushed.IsCanceled);
                }
            }

            await output.CompleteAsync();
            Assert.True(writer.IsCompleted);
            Assert.Equal(Total, writer.Position);
            Assert.Equal(Total, await reading.WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Equal(0, reader.LostBytes);
        }
    }

    [Fact]
    public async Task Pipe_reader_buffers_are_ring_memory_in_two_segments_across_the_wrap()
    {
        var (writer, ring) = ByteRing.CreateClaimed("segments", Options(capacity: 64));
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            writer.Write(RingContent.Make(0, 50));
            var pipe = reader.AsPipeReader();
            var first = await pipe.ReadAsync();
            Assert.True(first.Buffer.IsSingleSegment);
            Assert.Equal(50, first.Buffer.Length);
            pipe.AdvanceTo(first.Buffer.End);

            writer.Write(RingContent.Make(50, 40));
            Assert.True(pipe.TryRead(out var wrapped));
            Assert.False(wrapped.Buffer.IsSingleSegment);
            Assert.Equal(40, wrapped.Buffer.Length);
            Assert.Equal(14, wrapped.Buffer.First.Length);
            Assert.Equal(RingContent.Make(50, 40), wrapped.Buffer.ToArray());
            pipe.AdvanceTo(wrapped.Buffer.End);
            Assert.Equal(90, reader.Position);
        }
    }

    [Fact]
    public async Task Pending_pipe_read_and_flush_can_be_cancelled()
    {
        var (writer, ring) = ByteRing.CreateClaimed("pipecancel", Options(capacity: 64));
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            var input = reader.AsPipeReader();
            var pending = input.ReadAsync();
            Assert.False(pending.IsCompleted);
            input.CancelPendingRead();
            var cancelled = await pending.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(cancelled.IsCanceled);

            using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50)))
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await input.ReadAsync(cts.Token));
            }

            // Fill the ring (the reader does not read) and make the flush wait.
            var output = writer.AsPipeWriter();
            output.Write(new byte[100]);
            var flush = output.FlushAsync();
            Assert.False(flush.IsCompleted);
            output.CancelPendingFlush();
            var flushResult = await flush.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(flushResult.IsCanceled);
            Assert.Equal(36, output.UnflushedBytes);
            Assert.Equal(64, writer.Position);
        }
    }

    [SkippableFact]
    public async Task Readv_fills_the_ring_from_a_pipe_across_the_wrap()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "readv/writev on file descriptors are tested on Linux");
        const long Total = 1L << 20;
        var (writer, ring) = ByteRing.CreateClaimed("readv", Options(capacity: 16 * 1024));
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        using (var pipeOut = new AnonymousPipeServerStream(PipeDirection.Out))
        using (var pipeIn = new AnonymousPipeClientStream(PipeDirection.In, pipeOut.ClientSafePipeHandle))
        {
            var feeding = Task.Run(() =>
            {
                var random = new Random(8);
                var chunk = new byte[10_000];
                for (long position = 0; position < Total;)
                {
                    int length = (int)Math.Min(random.Next(1, chunk.Length), Total - position);
                    RingContent.Fill(chunk.AsSpan(0, length), position);
                    pipeOut.Write(chunk, 0, length);
                    position += length;
                }

                pipeOut.Dispose();
            });
            var reading = Task.Run(async () =>
            {
                var buffer = new byte[1000];
                long received = 0;
                int read;
                while ((read = await reader.ReadAsync(buffer)) > 0)
                {
                    Assert.Equal(-1, RingContent.Mismatch(buffer.AsSpan(0, read), reader.Position - read));
                    received += read;
                }

                return received;
            });

            int calls = 0;
            var sizes = new Random(9);
            while (writer.ReadFrom(pipeIn.SafePipeHandle, sizes.Next(1, 5000)) > 0)
            {
                calls++;
            }

            writer.Complete();
            await feeding;
            Assert.Equal(Total, await reading.WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Equal(Total, writer.Position);
            Assert.True(calls > 1);
        }
    }

    [SkippableFact]
    public async Task Writev_drains_the_ring_into_a_pipe_across_the_wrap()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "readv/writev on file descriptors are tested on Linux");
        const long Total = 1L << 20;
        var (writer, ring) = ByteRing.CreateClaimed("writev", Options(capacity: 16 * 1024));
        using (ring)
        using (var reader = ring.CreateReader())
        using (var pipeOut = new AnonymousPipeServerStream(PipeDirection.Out))
        using (var pipeIn = new AnonymousPipeClientStream(PipeDirection.In, pipeOut.ClientSafePipeHandle))
        {
            var collecting = Task.Run(() =>
            {
                var received = new MemoryStream();
                pipeIn.CopyTo(received);
                return received.ToArray();
            });
            var writing = Task.Run(async () =>
            {
                using (writer)
                {
                    var random = new Random(10);
                    var chunk = new byte[3000];
                    while (writer.Position < Total)
                    {
                        int length = (int)Math.Min(random.Next(1, chunk.Length), Total - writer.Position);
                        RingContent.Fill(chunk.AsSpan(0, length), writer.Position);
                        await writer.WriteAsync(chunk.AsMemory(0, length));
                    }

                    writer.Complete();
                }
            });

            while (true)
            {
                int written = reader.WriteTo(pipeOut.SafePipeHandle);
                if (written == 0)
                {
                    if (reader.IsCompleted)
                    {
                        break;
                    }

                    Assert.True(reader.Wait(TimeSpan.FromSeconds(30)));
                }
            }

            pipeOut.Dispose();
            await writing;
            byte[] drained = await collecting.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(Total, drained.Length);
            Assert.Equal(-1, RingContent.Mismatch(drained, 0));
            Assert.Equal(0, reader.LostBytes);
        }
    }
}
