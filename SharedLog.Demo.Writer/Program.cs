using System.Buffers.Binary;
using System.Diagnostics;

namespace SharedLog.Demo.Writer;

/// <summary>A minimal publisher: appends timestamped ticks to a named log for a while, then exits.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        string name = args.Length > 0 ? args[0] : "demo";
        double seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3;
        string? directory = args.Length > 2 ? args[2] : null;

        SegmentedLog.Delete(name, directory);
        var (writer, log) = SegmentedLog.CreateClaimed(name, new SegmentedLogOptions
        {
            SegmentCapacity = 4096,
            RetainedCapacity = 1 << 18,
            SlowReaderPolicy = SlowReaderPolicy.Evict,
            Directory = directory,
        });
        using (log)
        using (writer)
        {
            Console.WriteLine($"writer: publishing to {log.FilePath} for {seconds:0.#} s");
            Span<byte> tick = stackalloc byte[64];
            var clock = Stopwatch.StartNew();
            long deadline = (long)(seconds * Stopwatch.Frequency);
            while (clock.ElapsedTicks < deadline)
            {
                for (int i = 0; i < 1024; i++)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(tick, writer.NextSequence);
                    BinaryPrimitives.WriteInt64LittleEndian(tick[8..], Stopwatch.GetTimestamp());
                    writer.Append(tick, typeId: 1);
                }
            }

            writer.Append(ReadOnlySpan<byte>.Empty, typeId: 0);
            Console.WriteLine($"writer: {writer.NextSequence:N0} records in {clock.Elapsed.TotalSeconds:0.00} s ({writer.NextSequence / clock.Elapsed.TotalSeconds:N0}/s)");
        }

        return 0;
    }
}
