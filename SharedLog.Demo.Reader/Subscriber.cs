namespace SharedLog.Demo.Reader;

/// <summary>
/// A market-data subscriber: tails the log from the oldest retained tick to the end of the session. With a
/// <c>maxRate</c> it is deliberately slow; under <see cref="SlowReaderPolicy.Evict"/> the writer then laps it, and it
/// reports exactly how many ticks it lost.
/// </summary>
public static class Subscriber
{
    /// <summary>Runs until the end-of-session record; returns 0 when received + lost accounts for every tick.</summary>
    public static int Run(string name, string? directory, string role, int maxRate)
    {
        using var log = LogConnection.Open(name, directory);
        using var reader = log.CreateReader(ReadFrom.Oldest);
        long first = reader.NextSequence;
        var stats = new ReaderStats(role);
        ReaderStats.Print(stats.Report("ready") with { From = first });
        while (true)
        {
            stats.ReportIfDue(log, reader);
            if (!reader.TryRead(out var record))
            {
                if (!reader.Wait(TimeSpan.FromSeconds(10)))
                {
                    ReaderStats.Print(stats.Report("error") with { Reason = "no data for 10 s" });
                    return 1;
                }

                continue;
            }

            if (record.TypeId == Tick.EndOfSessionTypeId)
            {
                // Every record before this one was either received or counted as lost.
                return stats.ReportFinal(reader.LostCount, record.Sequence - first) ? 0 : 1;
            }

            // The tick is read in place, straight from the shared mapping.
            var tick = record.Read<Tick>();
            if (maxRate > 0 && stats.Received >= maxRate * stats.Elapsed)
            {
                // A slow consumer, still holding the record: the writer may overwrite it meanwhile.
                Thread.Sleep(1);
            }

            // Validate after use: false when the writer overwrote the record while we held it (then it counts as lost).
            if (reader.Validate())
            {
                stats.Record(tick);
            }
        }
    }
}
