using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Waiting;

/// <summary>Counts the whole process's allocations, so it runs alone (see <see cref="SerialCollection"/>).</summary>
[Collection(SerialCollection.Name)]
public sealed class WaitAllocationTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private (LogWriter Writer, SegmentedLog Log) Create(string name)
        => SegmentedLog.CreateClaimed(name, new SegmentedLogOptions
        {
            SegmentCapacity = 64,
            RetainedCapacity = 256,
            SlowReaderPolicy = SlowReaderPolicy.Block,
            SlowReaderTimeout = TimeSpan.FromSeconds(60),
            Directory = _dir.Path,
        });

    [Fact]
    public async Task Steady_state_WaitAsync_allocates_nothing()
    {
        var (writer, log) = Create("async-alloc");
        using (writer)
        using (log)
        using (var reader = log.CreateReader(ReadFrom.Latest))
        {
            const int Rounds = 1000;
            const int Batches = 5;
            using var go = new SemaphoreSlim(0);
            var producer = Task.Factory.StartNew(
                () =>
                {
                    for (long i = 0; i < (Batches + 1) * Rounds; i++)
                    {
                        go.Wait();
                        writer.Append(i);
                    }
                },
                TaskCreationOptions.LongRunning);

            // The first batch warms up; then the quietest of several batches counts, because whole-process bytes
            // also catch timers and pool threads of the runtime. A per-wait allocation shows in every batch.
            long perWait = long.MaxValue;
            for (int batch = 0; batch <= Batches; batch++)
            {
                long before = GC.GetTotalAllocatedBytes(precise: true);
                for (int i = 0; i < Rounds; i++)
                {
                    var wait = reader.WaitAsync();
                    go.Release();
                    Assert.True(await wait);
                    Assert.True(reader.TryRead(out _));
                }

                if (batch > 0)
                {
                    perWait = Math.Min(perWait, (GC.GetTotalAllocatedBytes(precise: true) - before) / Rounds);
                }
            }

            await producer.WaitAsync(Bound);

            // Whole-process bytes: the awaits, the dispatcher and the semaphore hand-off together stay near zero.
            Assert.True(perWait < 16, $"{perWait} bytes allocated per wait");
        }
    }

    [Fact]
    public void A_reader_waiting_for_seconds_allocates_nothing()
    {
        var (writer, log) = Create("sync-alloc");
        using (writer)
        using (log)
        using (var reader = log.CreateReader(ReadFrom.Latest, IdleStrategy.CreateBlocking(spinCount: 0)))
        {
            AssertWaitsAllocateNothing(reader.Wait);
        }
    }

    [Fact]
    public void A_ring_reader_waiting_for_seconds_allocates_nothing()
    {
        var (writer, ring) = ByteRing.CreateClaimed("ring-alloc", new ByteRingOptions { Capacity = 4096, Directory = _dir.Path });
        using (writer)
        using (ring)
        using (var reader = ring.CreateReader(ReadFrom.Latest, IdleStrategy.CreateBlocking(spinCount: 0)))
        {
            AssertWaitsAllocateNothing(reader.Wait);
        }
    }

    /// <summary>
    /// Past a second a waiting reader checks, once a second, that its file was not deleted or replaced, and every
    /// 100 ms that the writer lives: those checks run on the waiting thread and must not allocate either.
    /// </summary>
    private static void AssertWaitsAllocateNothing(Func<TimeSpan, bool> wait)
    {
        Assert.False(wait(TimeSpan.FromMilliseconds(50)));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(2.5);
        int waits = 0;
        while (DateTime.UtcNow < until)
        {
            Assert.False(wait(TimeSpan.FromMilliseconds(300)));
            waits++;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(waits >= 5, $"only {waits} waits");
        Assert.True(allocated == 0, $"{allocated} bytes allocated by {waits} waits over 2.5 s");
    }
}
