using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Leases;

public sealed class ReaderTableTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    [Trait("Category", Stress.Category)]
    public void Re_arming_a_slot_never_loses_an_eviction_made_at_the_same_time()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("evictions", new SegmentedLogOptions { Directory = _dir.Path });
        using (writer)
        using (log)
        using (var reader = log.CreateReader())
        {
            var table = log.File.Shared.Readers;
            int slot = reader.SlotIndex;
            int rounds = Stress.Pick(300_000, 10_000_000);
            long evictions = 0;
            var evictor = BackgroundThread.Start(() =>
            {
                for (int i = 0; i < rounds; i++)
                {
                    evictions += table.EvictAtOrBelow(long.MaxValue - 1);
                }
            });
            long observed = 0;
            while (!!evictor.IsAlive)
            {
                if (table.Activate(slot))
                {
                    observed++;
                }
            }

            evictor.Join(TimeSpan.FromSeconds(30));
            if (table.Activate(slot))
            {
                observed++;
            }

            Assert.True(evictions > 0);
            Assert.Equal(evictions, observed);
        }
    }
}
