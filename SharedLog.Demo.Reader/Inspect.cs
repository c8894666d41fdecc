namespace SharedLog.Demo.Reader;

/// <summary>
/// Prints a log's geometry, writer lease, retained window and reader table. It takes no reader slot, so it can
/// look at a log without changing what the writer may reuse.
/// </summary>
public static class Inspect
{
    /// <summary>Opens the log and describes it; returns 1 when it cannot be opened. (The sharedlog tool's inspect shows more.)</summary>
    public static int Run(string name, string? directory)
    {
        SegmentedLog log;
        try
        {
            log = SegmentedLog.Open(name, directory);
        }
        catch (SharedLogException e)
        {
            Console.Error.WriteLine($"inspect: {e.Message}");
            return 1;
        }

        using (log)
        {
            var status = log.GetStatus();
            long fileLength = new FileInfo(log.FilePath).Length;
            Console.WriteLine($"log       {log.FilePath} ({fileLength / 1024.0 / 1024.0:0.0} MiB)");
            Console.WriteLine($"geometry  {log.SegmentCapacity:N0} records or {log.SegmentBytes:N0} bytes per segment, {log.SlotCount} segment slots, " +
                $"{log.RetainedCapacity:N0} records retained, {log.MaxReaders} reader slots");
            Console.WriteLine($"policy    {log.SlowReaderPolicy}{(log.SlowReaderPolicy == SlowReaderPolicy.Block ? $" (evicts after {log.SlowReaderTimeout.TotalSeconds:0.###} s)" : "")}");
            Console.WriteLine($"writer    {(status.WriterProcessId == 0 ? "none" : $"pid {status.WriterProcessId} ({(status.WriterAlive ? "alive" : "dead: the lease can be taken over")})")}");
            Console.WriteLine($"window    sequences {Ranges.HalfOpen(status.FirstSequence, status.NextSequence)} ({status.NextSequence - status.FirstSequence:N0} records), " +
                $"segments {Ranges.HalfOpen(status.OldestGeneration, status.HeadGeneration + 1)} (head {status.HeadGeneration:N0})");
            Console.WriteLine($"readers   {status.Readers.Count} of {log.MaxReaders} slots in use");
            if (status.Readers.Count > 0)
            {
                Console.WriteLine($"          {"slot",4}  {"pid",8}  {"kind",-8}  {"state",-8}  {"pins segment",12}  {"behind",8}  {"lost",12}  alive");
                foreach (var r in status.Readers)
                {
                    // A reader pins the oldest segment it may still read; "behind" is how far that is behind the head. The
                    // table is read just after the head, so a busy reader may already be past it: that shows as 0.
                    bool pins = r.Pin is >= 0 and < long.MaxValue;
                    string pin = pins ? r.Pin.ToString("N0", null) : "-";
                    string behind = pins ? Math.Max(0, status.HeadGeneration - r.Pin).ToString("N0", null) : "-";
                    Console.WriteLine($"          {r.Slot,4}  {r.ProcessId,8}  {(r.IsSnapshot ? "snapshot" : "reader"),-8}  {(r.IsEvicted ? "evicted" : "active"),-8}  {pin,12}  {behind,8}  {r.LostCount,12:N0}  {(r.IsAlive ? "yes" : "no")}");
                }
            }
        }

        return 0;
    }
}
