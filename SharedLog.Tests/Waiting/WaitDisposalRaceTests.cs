using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Waiting;

/// <summary>
/// A wait on one thread while another disposes the handle and then its log or ring, so the handle's lease holds the
/// last reference on the mapping: the disposal must wait for the wait to leave before it unmaps, or the waiting
/// thread reads unmapped memory and the test process dies. Both orders, at many points of the wait: while it spins,
/// between spinning and sleeping, and asleep.
/// </summary>
public sealed class WaitDisposalRaceTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Strategies => new() { "spin", "default", "block" };

    [Theory]
    [MemberData(nameof(Strategies))]
    public void A_log_reader_disposed_while_it_waits_ends_the_wait_and_unmaps_after_it(string strategy)
    {
        for (int i = 0; i < Stress.Pick(200, 5_000); i++)
        {
            var log = SegmentedLog.Create($"log-{strategy}-{i}", new SegmentedLogOptions { Directory = _dir.Path, SegmentCapacity = 16, RetainedCapacity = 64 });
            var reader = log.CreateReader(ReadFrom.Latest, Idle(strategy));
            RaceDisposal(i, () => reader.Wait(Timeout.InfiniteTimeSpan), log.Dispose, reader.Dispose);
        }
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void A_ring_reader_disposed_while_it_waits_ends_the_wait_and_unmaps_after_it(string strategy)
    {
        for (int i = 0; i < Stress.Pick(200, 5_000); i++)
        {
            var ring = ByteRing.Create($"ring-{strategy}-{i}", new ByteRingOptions { Directory = _dir.Path, Capacity = 4096 });
            var reader = ring.CreateReader(ReadFrom.Latest, Idle(strategy));
            RaceDisposal(i, () => reader.Wait(Timeout.InfiniteTimeSpan), ring.Dispose, reader.Dispose);
        }
    }

    [Fact]
    public void A_log_reader_disposed_while_it_starts_or_awaits_an_async_wait_ends_it_and_unmaps_after_it()
    {
        for (int i = 0; i < Stress.Pick(200, 5_000); i++)
        {
            var log = SegmentedLog.Create($"async-log-{i}", new SegmentedLogOptions { Directory = _dir.Path, SegmentCapacity = 16, RetainedCapacity = 64 });
            var reader = log.CreateReader(ReadFrom.Latest);
            RaceDisposal(i, () => reader.WaitAsync().AsTask().GetAwaiter().GetResult(), log.Dispose, reader.Dispose);
        }
    }

    [Fact]
    public void A_ring_reader_disposed_while_it_starts_or_awaits_an_async_wait_ends_it_and_unmaps_after_it()
    {
        for (int i = 0; i < Stress.Pick(200, 5_000); i++)
        {
            var ring = ByteRing.Create($"async-ring-{i}", new ByteRingOptions { Directory = _dir.Path, Capacity = 4096 });
            var reader = ring.CreateReader(ReadFrom.Latest);
            RaceDisposal(i, () => reader.WaitAsync().AsTask().GetAwaiter().GetResult(), ring.Dispose, reader.Dispose);
        }
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public void A_ring_writer_disposed_while_it_waits_for_space_ends_the_wait_and_unmaps_after_it(string strategy)
    {
        for (int i = 0; i < Stress.Pick(200, 5_000); i++)
        {
            var (writer, ring) = ByteRing.CreateClaimed($"full-{strategy}-{i}", new ByteRingOptions
            {
                Directory = _dir.Path,
                Capacity = 4096,
                SlowReaderPolicy = SlowReaderPolicy.Block,
                SlowReaderTimeout = TimeSpan.FromMinutes(5),
            });

            // A reader that never reads pins the start, so the full ring leaves the writer waiting for space. It reads
            // through a handle of its own (a mapping of its own), so the writer's lease holds the last reference on
            // the writer's mapping once its ring handle is disposed.
            using var other = ByteRing.Open($"full-{strategy}-{i}", _dir.Path);
            using var slow = other.CreateReader(ReadFrom.Oldest);
            writer.IdleStrategy = Idle(strategy);
            Assert.Equal(4096, writer.Write(new byte[4096]));
            RaceDisposal(i, () => writer.WaitForSpace(Timeout.InfiniteTimeSpan), ring.Dispose, writer.Dispose);
        }
    }

    private static IdleStrategy Idle(string strategy) => strategy switch
    {
        "spin" => IdleStrategy.BusySpin,
        "default" => IdleStrategy.Default,
        _ => IdleStrategy.CreateBlocking(spinCount: 0),
    };

    /// <summary>
    /// Starts <paramref name="wait"/> on its own thread, then (after a delay that varies with <paramref name="i"/>)
    /// runs the two disposals in an order that varies too; the wait must end false (or find its handle disposed)
    /// within the bound.
    /// </summary>
    private static void RaceDisposal(int i, Func<bool> wait, Action disposeOwner, Action disposeHandle)
    {
        using var started = new ManualResetEventSlim();
        var waiting = Task.Factory.StartNew(() =>
        {
            started.Set();
            try
            {
                return wait();
            }
            catch (ObjectDisposedException)
            {
                // The disposal came first: a wait on a disposed handle throws, by design.
                return false;
            }
        }, TaskCreationOptions.LongRunning);
        started.Wait(Bound);
        int delay = i % 7;
        if (delay > 0)
        {
            Thread.SpinWait(1 << (2 * delay));
        }

        if (i % 2 == 0)
        {
            disposeOwner();
            disposeHandle();
        }
        else
        {
            disposeHandle();
            disposeOwner();
        }

        Assert.True(waiting.Wait(Bound), $"iteration {i}: the wait did not end after its handle was disposed");
        Assert.False(waiting.Result);
    }
}
