using System.Diagnostics;

namespace SharedLog.Demo.Reader;

/// <summary>
/// A telemetry sidecar: attaches to a running log, summarises the recent window from a snapshot, tails new ticks for
/// a while, then detaches. Under <see cref="SlowReaderPolicy.Evict"/> none of this can hold the writer up.
/// </summary>
public static class Sidecar
{
    /// <summary>Attaches, reports the window, tails for <paramref name="seconds"/> (or to the end of the session), detaches.</summary>
    public static int Run(string name, string? directory, double seconds)
    {
        const string Role = "sidecar";
        using var log = LogConnection.Open(name, directory);
        var stats = new ReaderStats(Role);
        ReaderStats.Print(stats.Report("ready"));

        // 1. The recent window: a snapshot is a stable view, pinned until disposed.
        using (var snapshot = log.Snapshot())
        {
            ReaderStats.Print(stats.Report("window") with { Window = SummariseWindow(snapshot) });
        }

        // 2. What comes next, until it is time to detach.
        using var reader = log.CreateReader(ReadFrom.Latest);
        long first = reader.NextSequence;
        var attached = Stopwatch.StartNew();
        long end;
        while (true)
        {
            stats.ReportIfDue(log, reader);
            if (attached.Elapsed.TotalSeconds >= seconds)
            {
                end = reader.NextSequence;
                break;
            }

            if (!reader.TryRead(out var record))
            {
                reader.Wait(TimeSpan.FromMilliseconds(100));
                continue;
            }

            if (record.TypeId == Tick.EndOfSessionTypeId)
            {
                end = record.Sequence;
                break;
            }

            var tick = record.Read<Tick>();
            if (reader.Validate())
            {
                stats.Record(tick);
            }
        }

        // Detach: disposing the reader frees its slot. Every record from `first` to `end` was received or counted as lost.
        return stats.ReportFinal(reader.LostCount, end - first) ? 0 : 1;
    }

    /// <summary>Record count, sequence range, segments and the busiest symbol's volume-weighted average price.</summary>
    private static WindowSummary SummariseWindow(LogSnapshot snapshot)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                int segments = 0;
                foreach (var chunk in snapshot.Chunks)
                {
                    segments++;
                }

                Span<double> notional = stackalloc double[Tick.SymbolCount];
                Span<long> volume = stackalloc long[Tick.SymbolCount];
                foreach (var record in snapshot)
                {
                    if (record.TypeId == Tick.TypeId)
                    {
                        var tick = record.Read<Tick>();
                        int symbol = (int)((uint)tick.SymbolId % Tick.SymbolCount);
                        notional[symbol] += tick.Price * tick.Size;
                        volume[symbol] += tick.Size;
                    }
                }

                int busiest = volume.IndexOf(Max(volume));
                double vwap = volume[busiest] == 0 ? 0 : notional[busiest] / volume[busiest];
                return new WindowSummary(snapshot.Count, snapshot.FirstSequence, snapshot.NextSequence, segments, attempt, busiest, Math.Round(vwap, 2));
            }
            catch (ReaderEvictedException) when (attempt < 5)
            {
                // Under Evict the writer does not wait for a snapshot either: it reused the oldest segment before we had
                // walked the window. Take a fresh view and start again.
                snapshot.Refresh();
            }
        }
    }

    private static long Max(ReadOnlySpan<long> values)
    {
        long max = long.MinValue;
        foreach (long value in values)
        {
            max = Math.Max(max, value);
        }

        return max;
    }
}
