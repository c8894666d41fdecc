using System.Diagnostics;
using System.Globalization;
using System.IO.Pipes;
using System.Security.Cryptography;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Ring;

/// <summary>Writer in the test process, readers in child processes (the test assembly in a child role).</summary>
public sealed class RingCrossProcessTests : IDisposable
{
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private ByteRingOptions Options(int capacity, SlowReaderPolicy policy = SlowReaderPolicy.Block)
        => new()
        {
            Capacity = capacity,
            SlowReaderPolicy = policy,
            SlowReaderTimeout = TimeSpan.FromMinutes(5),
            Directory = _dir.Path,
        };

    /// <summary>A pseudo-random stream with a period that is not a power of two, so a byte in the wrong place shows.</summary>
    private static byte[] Pattern()
    {
        var pattern = new byte[(4 << 20) + 7];
        new Random(1234).NextBytes(pattern);
        return pattern;
    }

    private static ReadOnlySpan<byte> Slice(byte[] pattern, long position, int length, byte[] scratch)
    {
        int offset = (int)(position % pattern.Length);
        if (offset + length <= pattern.Length)
        {
            return pattern.AsSpan(offset, length);
        }

        int first = pattern.Length - offset;
        pattern.AsSpan(offset, first).CopyTo(scratch);
        pattern.AsSpan(0, length - first).CopyTo(scratch.AsSpan(first));
        return scratch.AsSpan(0, length);
    }

    /// <summary>Writes a chunk by one of three paths: async copy, blocking stream, zero-copy spans.</summary>
    private static void WriteChunk(RingWriter writer, Stream stream, ReadOnlySpan<byte> chunk, int path)
    {
        switch (path)
        {
            case 0:
                writer.WriteAsync(chunk.ToArray()).AsTask().GetAwaiter().GetResult();
                break;
            case 1:
                stream.Write(chunk);
                break;
            default:
                while (!chunk.IsEmpty)
                {
                    int free = writer.GetWriteSpans(chunk.Length, out var first, out var second);
                    if (free == 0)
                    {
                        Assert.True(writer.WaitForSpace(TimeSpan.FromMinutes(1)));
                        continue;
                    }

                    chunk[..first.Length].CopyTo(first);
                    chunk.Slice(first.Length, second.Length).CopyTo(second);
                    writer.Advance(free);
                    chunk = chunk[free..];
                }

                break;
        }
    }

    private static (string Sha, long Count, long Lost) ParseSha(Child child)
    {
        string[] parts = child.WaitForLine("sha ", ChildTimeout).Split(' ');
        return (parts[1], long.Parse(parts[2], CultureInfo.InvariantCulture), long.Parse(parts[3], CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData(64 * 1024)]
    [InlineData(1024 * 1024)]
    public void Hundred_MiB_in_chunks_from_1_byte_to_1_MiB_reach_a_reader_process_intact(int capacity)
    {
        const long Total = 100L << 20;
        int[] sizes = [1, 1 << 20, 2, 3, 4095, 7, 65536, 1000, (1 << 20) - 1, 17, 4096, 333_333, 65537, 255, 1 << 19];
        string name = $"bulk-{capacity}";
        var (writer, ring) = ByteRing.CreateClaimed(name, Options(capacity));
        using (ring)
        using (var child = Child.Start("ring-read-sha", _dir.Path, name, capacity.ToString(CultureInfo.InvariantCulture)))
        {
            child.WaitForLine("ready", ChildTimeout);
            byte[] pattern = Pattern();
            var scratch = new byte[1 << 20];
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using (writer)
            {
                var stream = writer.AsStream();
                for (int i = 0; writer.Position < Total; i++)
                {
                    int length = (int)Math.Min(sizes[i % sizes.Length], Total - writer.Position);
                    var chunk = Slice(pattern, writer.Position, length, scratch);
                    hash.AppendData(chunk);

                    WriteChunk(writer, stream, chunk, i % 3);
                }

                stream.Dispose();
                Assert.True(writer.IsCompleted);
            }

            var (sha, count, lost) = ParseSha(child);
            child.AssertSuccess(ChildTimeout);
            Assert.Equal(Total, count);
            Assert.Equal(0, lost);
            Assert.Equal(Convert.ToHexString(hash.GetHashAndReset()), sha);
        }
    }

    [Fact]
    public async Task Three_reader_processes_at_different_speeds_all_receive_everything_under_block()
    {
        const long Total = 8L << 20;
        var (writer, ring) = ByteRing.CreateClaimed("speeds", Options(64 * 1024));
        using (ring)
        {
            // Pauses: none, 1 ms every 64 KiB, 2 ms every 16 KiB.
            var children = new[]
            {
                Child.Start("ring-read-sha", _dir.Path, "speeds", "1"),
                Child.Start("ring-read-sha", _dir.Path, "speeds", "2", "1", "65536"),
                Child.Start("ring-read-sha", _dir.Path, "speeds", "3", "2", "16384"),
            };
            try
            {
                foreach (var child in children)
                {
                    child.WaitForLine("ready", ChildTimeout);
                }

                byte[] pattern = Pattern();
                var scratch = new byte[1 << 20];
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                using (writer)
                {
                    var random = new Random(5);
                    while (writer.Position < Total)
                    {
                        int length = (int)Math.Min(random.Next(1, 200_000), Total - writer.Position);
                        var chunk = Slice(pattern, writer.Position, length, scratch);
                        hash.AppendData(chunk);
                        await writer.WriteAsync(chunk.ToArray());
                    }

                    writer.Complete();
                }

                string expected = Convert.ToHexString(hash.GetHashAndReset());
                foreach (var child in children)
                {
                    var (sha, count, lost) = ParseSha(child);
                    child.AssertSuccess(ChildTimeout);
                    Assert.Equal(0, lost);
                    Assert.Equal(Total, count);
                    Assert.Equal(expected, sha);
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
    }

    [Fact]
    public void Evict_reader_processes_count_exactly_what_they_lost_and_every_byte_they_got_is_right()
    {
        const long Total = 64L << 20;
        var (writer, ring) = ByteRing.CreateClaimed("evict", Options(64 * 1024, SlowReaderPolicy.Evict));
        using (ring)
        using (var fast = Child.Start("ring-read-verify", _dir.Path, "evict"))
        using (var slow = Child.Start("ring-read-verify", _dir.Path, "evict", "1", "4096"))
        {
            fast.WaitForLine("ready", ChildTimeout);
            slow.WaitForLine("ready", ChildTimeout);
            using (writer)
            {
                var random = new Random(9);
                var chunk = new byte[40_000];
                while (writer.Position < Total)
                {
                    int length = (int)Math.Min(random.Next(1, chunk.Length), Total - writer.Position);
                    RingContent.Fill(chunk.AsSpan(0, length), writer.Position);

                    // Under Evict the writer never waits: everything is written at once.
                    Assert.Equal(length, writer.Write(chunk.AsSpan(0, length)));
                }

                writer.Complete();
            }

            foreach (var child in new[] { fast, slow })
            {
                string[] result = child.WaitForLine("result ", ChildTimeout).Split(' ');
                child.AssertSuccess(ChildTimeout);
                long received = long.Parse(result[1], CultureInfo.InvariantCulture);
                long lost = long.Parse(result[2], CultureInfo.InvariantCulture);
                long travelled = long.Parse(result[3], CultureInfo.InvariantCulture);
                Assert.Equal(Total, travelled);
                Assert.Equal(Total, received + lost);
                Assert.True(received >= 64 * 1024, $"a reader drains at least the last capacity at the end; got {received}");
            }

            string[] slowResult = slow.WaitForLine("result ", ChildTimeout).Split(' ');
            Assert.True(long.Parse(slowResult[2], CultureInfo.InvariantCulture) > 0, "a reader pausing 1 ms every 4 KiB must be overwritten");
        }
    }

    [Fact]
    public async Task A_dead_reader_process_is_reaped_so_a_blocking_writer_goes_on()
    {
        var (writer, ring) = ByteRing.CreateClaimed("reap", Options(64 * 1024));
        using (writer)
        using (ring)
        {
            using (var holder = Child.Start("ring-hold-reader", _dir.Path, "reap"))
            {
                Assert.Equal("ready 0", holder.WaitForLine("ready", ChildTimeout));
                Assert.Equal(64 * 1024, writer.Write(new byte[100_000]));
                Assert.Equal(0, writer.Write(new byte[1]));
                holder.Kill();
            }

            // The slow-reader timeout is 5 minutes: only reaping the dead reader's slot lets this finish.
            await writer.WriteAsync(new byte[1 << 20]).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal((64 * 1024) + (1 << 20), writer.Position);
        }
    }

    [Fact]
    public void A_child_process_stdout_captured_into_the_ring_is_followed_by_reader_processes()
    {
        const long Total = 8L << 20;
        var (writer, ring) = ByteRing.CreateClaimed("capture", Options(256 * 1024));
        using (ring)
        using (var first = Child.Start("ring-read-verify", _dir.Path, "capture"))
        using (var second = Child.Start("ring-read-verify", _dir.Path, "capture", "1", "262144"))
        {
            first.WaitForLine("ready", ChildTimeout);
            second.WaitForLine("ready", ChildTimeout);

            using var producer = StartEmitter(Total);
            using (writer)
            {
                // On Linux the child's stdout is a pipe: fill the ring from it with readv, no intermediate buffer.
                if (OperatingSystem.IsLinux() && producer.StandardOutput.BaseStream is PipeStream pipe)
                {
                    while (writer.ReadFrom(pipe.SafePipeHandle) > 0)
                    {
                    }
                }
                else
                {
                    producer.StandardOutput.BaseStream.CopyTo(writer.AsStream());
                }

                writer.Complete();
            }

            Assert.True(producer.WaitForExit(60_000));
            Assert.Equal(0, producer.ExitCode);
            Assert.Equal(Total, ring.WriterPosition);
            foreach (var child in new[] { first, second })
            {
                string[] result = child.WaitForLine("result ", ChildTimeout).Split(' ');
                child.AssertSuccess(ChildTimeout);
                Assert.Equal($"{Total}", result[1]);
                Assert.Equal("0", result[2]);
            }
        }
    }

    private static Process StartEmitter(long count)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            info.FileName = host;
        }

        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(typeof(Child).Assembly.Location);
        info.ArgumentList.Add("ring-emit");
        info.ArgumentList.Add(count.ToString(CultureInfo.InvariantCulture));
        return Process.Start(info)!;
    }
}
