using System.Buffers.Binary;
using System.Diagnostics;

namespace SharedLog.Demo.Reader;

/// <summary>A minimal subscriber: tails a named log until the end-of-stream record (type 0), then reports.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string name = args.Length > 0 ? args[0] : "demo";
        string label = args.Length > 1 ? args[1] : "reader";
        string? directory = args.Length > 2 ? args[2] : null;

        SegmentedLog? log = null;
        var wait = Stopwatch.StartNew();
        while (log is null)
        {
            try
            {
                log = SegmentedLog.Open(name, directory);
            }
            catch (SharedLogException) when (wait.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Sleep(20);
            }
        }

        using (log)
        using (var reader = log.CreateReader(ReadFrom.Oldest))
        {
            long received = 0;
            long outOfOrder = 0;
            long expected = reader.NextSequence;
            var clock = Stopwatch.StartNew();
            while (true)
            {
                if (!reader.TryRead(out var record))
                {
                    if (!reader.Wait(TimeSpan.FromSeconds(5)))
                    {
                        Console.WriteLine($"{label}: no data for 5 s, giving up");
                        return 1;
                    }

                    continue;
                }

                if (record.TypeId == 0)
                {
                    break;
                }

                long sequence = BinaryPrimitives.ReadInt64LittleEndian(record.Payload);
                if (!reader.Validate())
                {
                    continue;
                }

                if (sequence != record.Sequence)
                {
                    outOfOrder++;
                }

                received++;
                expected = record.Sequence + 1;
            }

            Console.WriteLine(
                $"{label}: received {received:N0}, lost {reader.LostCount:N0}, mismatched {outOfOrder}, in {clock.Elapsed.TotalSeconds:0.00} s");
            return outOfOrder == 0 ? 0 : 1;
        }
    }
}
