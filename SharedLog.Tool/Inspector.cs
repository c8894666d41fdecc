namespace SharedLog.Tool;

/// <summary>Reads a <see cref="FileReport"/> from an opened file. Reading takes no reader slot and writes nothing.</summary>
internal static class Inspector
{
    /// <summary>Describes <paramref name="file"/> now; with <paramref name="previous"/>, adds rates since it.</summary>
    public static FileReport Describe(SharedLogFile file, FileReport? previous = null)
    {
        var time = DateTimeOffset.UtcNow;
        long length = new FileInfo(file.FilePath).Length;
        string name = Path.GetFileName(file.FilePath);
        double interval = previous is null ? 0 : (time - previous.Time).TotalSeconds;
        if (file.Log is { } log)
        {
            var status = log.GetStatus();
            bool unbounded = status.Retention == LogRetention.Unbounded;
            var segments = status.Segments
                .Select(s => new SegmentReport(s.Generation, unbounded ? s.Generation : s.Generation % log.SlotCount, s.FirstSequence, s.Count, s.IsHead))
                .ToList();
            var report = new LogReport(
                log.SegmentCapacity, log.SegmentBytes, log.RetainedCapacity, log.SlotCount, log.MaxReaders,
                log.SlowReaderPolicy.ToString(), log.SlowReaderTimeout.TotalSeconds,
                status.FirstSequence, status.NextSequence, status.NextSequence - status.FirstSequence,
                status.OldestGeneration, status.HeadGeneration, status.IsCompleted, segments,
                status.Retention.ToString(), status.ExtentCount, status.MaxBytes);
            var readers = status.Readers.Select(r => Reader(r, previous, interval)).ToList();
            RatesReport? rates = previous?.Log is { } before && interval > 0
                ? new RatesReport(interval, (status.NextSequence - before.NextSequence) / interval, "records")
                : null;
            return new FileReport(name, file.FilePath, "log", length, time, new WriterReport(status.WriterProcessId, status.WriterAlive), report, null, readers, rates);
        }

        var ring = file.Ring!;
        var ringStatus = ring.GetStatus();
        var ringReport = new RingReport(ringStatus.Capacity, ring.MaxReaders, ring.SlowReaderPolicy.ToString(), ring.SlowReaderTimeout.TotalSeconds,
            ringStatus.WriterPosition, ringStatus.OldestPosition, ringStatus.IsCompleted);
        RatesReport? ringRates = previous?.Ring is { } was && interval > 0
            ? new RatesReport(interval, (ringReport.WriterPosition - was.WriterPosition) / interval, "bytes")
            : null;
        var ringReaders = ringStatus.Readers.Select(r => Reader(r, previous, interval)).ToList();
        return new FileReport(name, file.FilePath, "ring", length, time, new WriterReport(ringStatus.WriterProcessId, ringStatus.WriterAlive),
            null, ringReport, ringReaders, ringRates);
    }

    private static ReaderReport Reader(ReaderStatus reader, FileReport? previous, double interval)
    {
        bool pins = reader.Pin is >= 0 and < long.MaxValue;
        var before = previous?.Readers.FirstOrDefault(r => r.Slot == reader.Slot && r.Pid == reader.ProcessId);
        double? lostRate = before is not null && interval > 0 ? (reader.LostCount - before.LostCount) / interval : null;
        return new ReaderReport(
            reader.Slot,
            reader.ProcessId,
            reader.IsAlive,
            reader.IsSnapshot ? "snapshot" : reader.IsLease ? "leases" : "reader",
            !reader.IsAlive ? "dead" : reader.IsEvicted ? "evicted" : "active",
            pins ? reader.Pin : -1,
            reader.Position,
            reader.Lag,
            reader.LostCount,
            lostRate);
    }
}
