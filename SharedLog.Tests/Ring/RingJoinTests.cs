using SharedLog.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SharedLog.Tests.Ring;

/// <summary>
/// Readers that join (are created, or seek backward) while the writer raises its tail, under
/// <see cref="SlowReaderPolicy.Block"/>: a reader that is never evicted must never see a held byte change, and never
/// lose one.
/// </summary>
public sealed class RingJoinTests(ITestOutputHelper output) : IDisposable
{
    private const int Capacity = 4096;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>The byte the writer puts at <paramref name="position"/>; differs from the byte one lap later.</summary>
    private static byte Expected(long position) => (byte)(position + (position / Capacity));

    [Fact]
    [Trait("Category", Stress.Category)]
    public void Readers_joining_a_busy_block_writer_never_lose_or_see_changed_bytes()
    {
        var (writer, ring) = ByteRing.CreateClaimed("join", new ByteRingOptions
        {
            Capacity = Capacity,
            SlowReaderPolicy = SlowReaderPolicy.Block,
            SlowReaderTimeout = TimeSpan.FromMinutes(5),
            Directory = _dir.Path,
        });
        using var stop = new CancellationTokenSource();
        using (ring)
        {
            // A slow reader keeps the writer pressed against its pin, so the writer's tail raises keep racing joins.
            using var slow = ring.CreateReader(ReadFrom.Oldest, IdleStrategy.BusySpin);
            var writerTask = BackgroundThread.Start(() =>
            {
                using (writer)
                {
                    while (!stop.IsCancellationRequested)
                    {
                        int length = writer.GetWriteSpans(Random.Shared.Next(1, 700), out var first, out var second);
                        long position = writer.Position;
                        for (int i = 0; i < first.Length; i++)
                        {
                            first[i] = Expected(position + i);
                        }

                        for (int i = 0; i < second.Length; i++)
                        {
                            second[i] = Expected(position + first.Length + i);
                        }

                        writer.Advance(length);
                    }
                }
            });
            var slowTask = BackgroundThread.Start(() =>
            {
                var buffer = new byte[300];
                while (!stop.IsCancellationRequested)
                {
                    long position = slow.Position;
                    int read = slow.Read(buffer);
                    for (int i = 0; i < read; i++)
                    {
                        Assert.Equal(Expected(position + i), buffer[i]);
                    }

                    Thread.SpinWait(200);
                }
            });

            int joins = Stress.Pick(3000, 100_000);
            int seeks = 0;
            try
            {
                for (int join = 0; join < joins; join++)
                {
                    using var reader = ring.CreateReader(ReadFrom.Oldest);
                    for (int round = 0; round < 3; round++)
                    {
                        if (round > 0)
                        {
                            // Backward seek: a join at a position the writer may not know about.
                            long oldest = ring.OldestPosition;
                            try
                            {
                                reader.Seek(oldest);
                                seeks++;
                            }
                            catch (ArgumentOutOfRangeException)
                            {
                                // Overwritten between the two reads: allowed; the reader stays where it was.
                            }
                        }

                        long start = reader.Position;
                        int length = reader.GetReadSpans(out var first, out var second);
                        byte[] copy = [.. first, .. second];
                        for (int i = 0; i < copy.Length; i++)
                        {
                            Assert.True(Expected(start + i) == copy[i], $"join {join}: byte at {start + i} was overwritten while held (LostBytes {reader.LostBytes})");
                        }

                        Thread.SpinWait(500);
                        Assert.True(first.SequenceEqual(copy.AsSpan(0, first.Length)) && second.SequenceEqual(copy.AsSpan(first.Length)),
                            $"join {join}: held bytes changed");
                        Assert.True(reader.Validate(), $"join {join}: held bytes reported overwritten");
                        reader.Advance(length);
                        Assert.Equal(0, reader.LostBytes);
                    }
                }
            }
            finally
            {
                stop.Cancel();
                writerTask.Join(TimeSpan.FromSeconds(30));
                slowTask.Join(TimeSpan.FromSeconds(30));
            }

            Assert.Equal(0, slow.LostBytes);
            var status = ring.GetStatus();
            Assert.DoesNotContain(status.Readers, r => r.IsEvicted);
            output.WriteLine($"{joins} joins, {seeks} backward seeks, writer at {status.WriterPosition}");
        }
    }
}
