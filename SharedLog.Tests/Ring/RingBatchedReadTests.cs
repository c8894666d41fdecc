using System.Diagnostics;
using System.Globalization;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Ring;

/// <summary>
/// <see cref="RingReader.Read(Span{byte}, int, TimeSpan)"/>: a read that lingers for a minimum while a stream flows.
/// Across processes the same reads run in the ring-read-sha child role (its batched mode).
/// </summary>
public sealed class RingBatchedReadTests : IDisposable
{
    private static readonly TimeSpan Linger = RingReader.MaxReadDelay;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private (RingWriter Writer, ByteRing Ring) Create(string name)
        => ByteRing.CreateClaimed(name, new ByteRingOptions
        {
            Capacity = 4096,
            SlowReaderPolicy = SlowReaderPolicy.Block,
            SlowReaderTimeout = TimeSpan.FromSeconds(60),
            Directory = _dir.Path,
        });

    private static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void It_takes_everything_there_at_once_when_the_minimum_is_there()
    {
        var (writer, ring) = Create("enough");
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            byte[] written = Bytes(300, 1);
            Assert.Equal(300, writer.Write(written));
            var buffer = new byte[1024];
            Assert.Equal(300, reader.Read(buffer, 200, Linger));
            Assert.Equal(written, buffer[..300]);
            Assert.Equal(300, reader.Position);

            // A minimum of 0 or 1 is a plain read.
            Assert.Equal(10, writer.Write(written.AsSpan(0, 10)));
            Assert.Equal(10, reader.Read(buffer, 0, Linger));
            Assert.Equal(0, reader.Read(buffer, 1, Linger));
        }
    }

    [Fact]
    public void It_returns_nothing_when_nothing_is_there()
    {
        var (writer, ring) = Create("nothing");
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            Assert.Equal(0, reader.Read(new byte[64], 64, Linger));
            Assert.Equal(0, reader.Position);
        }
    }

    [Fact]
    public void It_lingers_the_whole_delay_for_a_minimum_that_does_not_come_then_takes_what_is_there()
    {
        var (writer, ring) = Create("short");
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            byte[] written = Bytes(100, 2);
            writer.Write(written);
            var buffer = new byte[1024];
            long start = Stopwatch.GetTimestamp();
            Assert.Equal(100, reader.Read(buffer, 200, Linger));
            var waited = Stopwatch.GetElapsedTime(start);
            Assert.True(waited >= Linger, $"the read lingered {waited.TotalMicroseconds:0} µs of {Linger.TotalMicroseconds:0}");
            Assert.Equal(written, buffer[..100]);

            // The minimum is capped by the destination: a read into 100 bytes wants at most 100.
            writer.Write(written);
            Assert.Throws<ArgumentOutOfRangeException>("minimumLength", () => reader.Read(buffer.AsSpan(0, 100), 101, Linger));
            Assert.Equal(100, reader.Read(buffer.AsSpan(0, 100), 100, Linger));
        }
    }

    [Fact]
    public void Under_a_flowing_writer_a_read_below_the_minimum_has_lingered_the_whole_delay()
    {
        const int Minimum = 512;
        var delay = TimeSpan.FromMicroseconds(200);
        var (writer, ring) = Create("flowing");
        using (ring)
        using (var reader = ring.CreateReader())
        {
            // Another thread writes 64-byte pieces of a counting pattern, pausing between them, so reads keep finding a few.
            using var stop = new CancellationTokenSource();
            var producer = BackgroundThread.Start(() =>
            {
                using (writer)
                {
                    var piece = new byte[64];
                    while (!stop.IsCancellationRequested)
                    {
                        for (int i = 0; i < piece.Length; i++)
                        {
                            piece[i] = (byte)(writer.Position + i);
                        }

                        if (writer.Write(piece) == 0)
                        {
                            writer.WaitForSpace(TimeSpan.FromMilliseconds(10));
                            continue;
                        }

                        Thread.SpinWait(200);
                    }
                }
            });

            var buffer = new byte[4096];
            int reads = 0;
            try
            {
                while (reads < 300)
                {
                    long position = reader.Position;
                    long start = Stopwatch.GetTimestamp();
                    int read = reader.Read(buffer, Minimum, delay);
                    var elapsed = Stopwatch.GetElapsedTime(start);
                    if (read == 0)
                    {
                        reader.Wait(TimeSpan.FromSeconds(10));
                        continue;
                    }

                    reads++;
                    for (int i = 0; i < read; i++)
                    {
                        Assert.Equal((byte)(position + i), buffer[i]);
                    }

                    // The contract: fewer than the minimum only after the whole delay. (A piece is written whole, so a
                    // read never finds part of one; the writer's pauses make reads below the minimum common.)
                    if (read < Minimum)
                    {
                        Assert.True(elapsed >= delay, $"a read of {read} bytes returned after {elapsed.TotalMicroseconds:0} µs");
                    }
                }
            }
            finally
            {
                stop.Cancel();
                producer.Join(TimeSpan.FromSeconds(30));
            }

            Assert.Equal(0, reader.LostBytes);
        }
    }

    [SkippableFact]
    public void A_yielding_reader_on_the_writers_only_cpu_lets_the_writes_it_lingers_for_arrive()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "CPU affinity of a child process is set here on Linux");

        // Writer and reader threads in one child process confined to one CPU, the writer writing one piece per turn. A
        // linger that spun would hold that CPU until the scheduler took it away, so the writer could not add the pieces
        // it waits for: measured, a spinning reader got its minimum in 0-1 reads of 200, the yielding one in 194-199 (105
        // with two other busy processes on the machine, which the yield also hands the CPU to).
        using var child = Child.Start("ring-linger-one-cpu", _dir.Path, "one-cpu", "yield");
        child.AssertSuccess(TimeSpan.FromSeconds(60));
        string reached = child.WaitForLine("reached ", TimeSpan.FromSeconds(1));
        Assert.True(int.Parse(reached.Split(' ')[1], CultureInfo.InvariantCulture) >= 40, $"{reached}: a linger that yields should let the writer add the minimum in many reads");
    }

    /// <summary>
    /// Confines this process to one CPU; a thread writes a 64-byte piece per turn while this one reads 200 times with
    /// <c>Read(buffer, 4096, 1 ms)</c> under the given idle strategy (yield or spin). Prints "reached N of 200": the
    /// reads that got their minimum.
    /// </summary>
    [ChildRole("ring-linger-one-cpu")]
    public static int LingerOnOneCpu(string[] args)
    {
        if (!Child.ConfineToOneCpu())
        {
            return 2;
        }

        var (writer, ring) = ByteRing.CreateClaimed(args[1], new ByteRingOptions
        {
            Capacity = 1 << 20,
            SlowReaderPolicy = SlowReaderPolicy.Block,
            SlowReaderTimeout = TimeSpan.FromSeconds(60),
            Directory = args[0],
        });
        using (ring)
        using (var reader = ring.CreateReader(ReadFrom.Oldest, args[2] == "yield" ? IdleStrategy.Yielding : IdleStrategy.BusySpin))
        {
            using var stop = new CancellationTokenSource();
            var producer = new Thread(() =>
            {
                using (writer)
                {
                    var piece = new byte[64];
                    while (!stop.IsCancellationRequested)
                    {
                        // One piece per turn on the CPU: the reader catches up after each and lingers for the next.
                        if (writer.Write(piece) == 0)
                        {
                            writer.WaitForSpace(TimeSpan.FromMilliseconds(10));
                        }

                        Thread.Yield();
                    }
                }
            });
            producer.Start();
            var buffer = new byte[64 << 10];
            int reached = 0;
            for (int reads = 0; reads < 200;)
            {
                int read = reader.Read(buffer, 4096, RingReader.MaxReadDelay);
                if (read == 0)
                {
                    reader.Wait(TimeSpan.FromSeconds(10));
                    continue;
                }

                reads++;
                reached += read >= 4096 ? 1 : 0;
            }

            stop.Cancel();
            producer.Join();
            Console.WriteLine($"reached {reached} of 200");
        }

        return 0;
    }

    [Fact]
    public void A_completed_stream_is_read_to_its_end()
    {
        var (writer, ring) = Create("completed");
        using (ring)
        using (var reader = ring.CreateReader())
        {
            byte[] written = Bytes(100, 5);
            using (writer)
            {
                writer.Write(written);
                writer.Complete();
            }

            var buffer = new byte[1024];
            Assert.Equal(100, reader.Read(buffer, 200, Linger));
            Assert.Equal(written, buffer[..100]);
            Assert.Equal(0, reader.Read(buffer, 200, Linger));
            Assert.True(reader.IsCompleted);
        }
    }

    [Fact]
    public void Arguments_out_of_range_are_refused_before_anything_is_read()
    {
        var (writer, ring) = Create("arguments");
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader())
        {
            writer.Write(new byte[10]);
            var buffer = new byte[64];
            Assert.Throws<ArgumentOutOfRangeException>("minimumLength", () => reader.Read(buffer, -1, Linger));
            Assert.Throws<ArgumentOutOfRangeException>("minimumLength", () => reader.Read(buffer, 65, Linger));
            Assert.Throws<ArgumentOutOfRangeException>("maxDelay", () => reader.Read(buffer, 1, TimeSpan.FromTicks(-1)));
            var tooLong = Assert.Throws<ArgumentOutOfRangeException>("maxDelay", () => reader.Read(buffer, 1, Linger + TimeSpan.FromTicks(1)));
            Assert.Contains("Wait", tooLong.Message);
            Assert.Equal(0, reader.Position);

            reader.Dispose();
            Assert.Throws<ObjectDisposedException>(() => reader.Read(buffer, 1, Linger));
        }
    }
}
