using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Log;

/// <summary>Opening a healthy log while its writer rolls segments as fast as it can never reports corruption.</summary>
public sealed class OpenRaceTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    [Trait("Category", Stress.Category)]
    public void Open_during_constant_rolls_of_a_one_segment_window_succeeds()
    {
        var options = new SegmentedLogOptions
        {
            SegmentCapacity = 1,
            RetainedCapacity = 1,
            SpareSegments = 0,
            SlowReaderPolicy = SlowReaderPolicy.Evict,
            Directory = _dir.Path,
        };
        var (writer, log) = SegmentedLog.CreateClaimed("rolling", options);
        using var stop = new CancellationTokenSource();
        using (log)
        {
            var appender = BackgroundThread.Start(() =>
            {
                using (writer)
                {
                    while (!stop.IsCancellationRequested)
                    {
                        writer.Append([1, 2, 3, 4]);
                    }
                }
            });
            try
            {
                int opens = Stress.Pick(20_000, 500_000);
                for (int i = 0; i < opens; i++)
                {
                    using var opened = SegmentedLog.Open("rolling", _dir.Path);
                    using var snapshot = opened.Snapshot();
                    Assert.True(snapshot.Count <= 2);
                }
            }
            finally
            {
                stop.Cancel();
                appender.Join(TimeSpan.FromSeconds(30));
            }
        }
    }
}
