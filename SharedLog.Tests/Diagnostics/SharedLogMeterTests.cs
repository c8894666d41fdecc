using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Diagnostics;

/// <summary>
/// The <c>SharedLog</c> meter, seen through a <see cref="MeterListener"/> as dotnet-counters would see it: figures
/// move as records are appended, read and lost, and a disposed handle stops reporting.
/// </summary>
public sealed class SharedLogMeterTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Log_instruments_follow_appends_reads_rolls_and_evictions_and_stop_when_disposed()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("metered", new SegmentedLogOptions
        {
            Directory = _dir.Path, SegmentCapacity = 4, RetainedCapacity = 8, SpareSegments = 1, SlowReaderPolicy = SlowReaderPolicy.Evict,
        });
        using var listener = new Figures(log.FilePath);
        using (writer)
        using (var reader = log.CreateReader(ReadFrom.Oldest))
        {
            using (log)
            {
                for (int i = 0; i < 3; i++)
                {
                    writer.Append(new byte[10]);
                }

                var figures = listener.Collect();
                Assert.Equal(3, figures["sharedlog.log.records.appended"]);
                Assert.Equal(0, figures["sharedlog.log.segments.rolled"]);
                Assert.Equal(3 * 24, figures["sharedlog.log.bytes.retained"]); // 8-byte header + 10 bytes, padded to 8
                Assert.Equal(1, figures["sharedlog.log.readers"]);
                Assert.Equal(0, figures["sharedlog.log.records.lost"]);
                Assert.Equal(0, figures["sharedlog.log.readers.evicted"]);

                while (reader.TryRead(out _))
                {
                }

                Assert.Equal(0, listener.Collect()["sharedlog.log.reader.lag"]);

                // Under Evict the writer laps the idle reader: it is evicted, and counts the loss when it next reads.
                for (int i = 0; i < 40; i++)
                {
                    writer.Append(new byte[10]);
                }

                figures = listener.Collect();
                Assert.Equal(43, figures["sharedlog.log.records.appended"]);
                Assert.Equal(10, figures["sharedlog.log.segments.rolled"]);
                Assert.True(figures["sharedlog.log.reader.lag"] >= 40, $"lag {figures["sharedlog.log.reader.lag"]}");
                Assert.True(figures["sharedlog.log.readers.evicted"] >= 1);
                Assert.True(figures["sharedlog.log.bytes.retained"] is > 0 and <= 12 * 24, $"retained {figures["sharedlog.log.bytes.retained"]}");

                Assert.True(reader.TryRead(out _));
                figures = listener.Collect();
                Assert.Equal(reader.LostCount, figures["sharedlog.log.records.lost"]);
                Assert.True(reader.LostCount > 0);
            }

            // The handle is disposed; its writer and reader still hold the mapping, but the log no longer reports.
            Assert.Empty(listener.Collect());
        }
    }

    [Fact]
    public void Ring_instruments_follow_writes_and_reader_lag()
    {
        var (writer, ring) = ByteRing.CreateClaimed("metered-ring", new ByteRingOptions { Directory = _dir.Path, Capacity = 1024 });
        using var listener = new Figures(ring.FilePath);
        using (writer)
        using (var reader = ring.CreateReader(ReadFrom.Oldest))
        {
            using (ring)
            {
                Assert.Equal(100, writer.Write(new byte[100]));
                var figures = listener.Collect();
                Assert.Equal(100, figures["sharedlog.ring.bytes.written"]);
                Assert.Equal(100, figures["sharedlog.ring.reader.lag"]);
                Assert.Equal(1, figures["sharedlog.ring.readers"]);
                Assert.Equal(0, figures["sharedlog.ring.bytes.lost"]);

                Assert.Equal(100, reader.Read(new byte[200]));
                Assert.Equal(0, listener.Collect()["sharedlog.ring.reader.lag"]);
            }

            Assert.Empty(listener.Collect());
        }
    }

    [Fact]
    public void A_forgotten_handle_is_not_kept_alive_by_the_meter()
    {
        using var listener = new Figures(_dir.File("forgotten"));
        var handle = OpenAndForget(_dir.Path);
        Assert.NotEmpty(listener.Collect());

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(handle.TryGetTarget(out _), "the registry kept a handle nobody references alive");
        Assert.Empty(listener.Collect());
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference<SegmentedLog> OpenAndForget(string directory)
        => new(SegmentedLog.Create("forgotten", new SegmentedLogOptions { Directory = directory }));

    /// <summary>A listener on the SharedLog meter that keeps the measurements of one file, summed per instrument.</summary>
    private sealed class Figures : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly string _path;
        private Dictionary<string, long> _figures = [];

        public Figures(string path)
        {
            _path = path;
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "SharedLog")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag is { Key: "sharedlog.path", Value: string path } && path == _path)
                    {
                        _figures[instrument.Name] = _figures.GetValueOrDefault(instrument.Name) + value;
                    }
                }
            });
            _listener.Start();
        }

        public Dictionary<string, long> Collect()
        {
            _figures = [];
            _listener.RecordObservableInstruments();
            return _figures;
        }

        public void Dispose() => _listener.Dispose();
    }
}
