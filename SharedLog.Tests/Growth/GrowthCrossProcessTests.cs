using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using SharedLog.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SharedLog.Tests.Growth;

/// <summary>Readers in other processes follow a log whose file grows under them: they map each new extent as they reach it.</summary>
[Collection(ProcessTests.Collection)]
public sealed class GrowthCrossProcessTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public GrowthCrossProcessTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Two_reader_processes_follow_growth_from_one_segment_to_ten_extents_and_every_record_is_intact()
    {
        long maxBytes;
        using (var probe = SegmentedLog.Create("probe", GrowthFiles.Options(_dir.Path)))
        {
            // Room for exactly 10 extents (1023 segments), not 11.
            maxBytes = GrowthFiles.ExpectedLength(probe, 10) + probe.File.SlotStride;
        }

        var (writer, log) = SegmentedLog.CreateClaimed("followed", GrowthFiles.Options(_dir.Path, maxBytes: maxBytes));
        using (log)
        using (writer)
        {
            Assert.Equal(GrowthFiles.ExpectedLength(log, 1), new FileInfo(log.FilePath).Length);
            using var first = Child.Start("growth-follower", _dir.Path, "followed");
            using var second = Child.Start("growth-follower", _dir.Path, "followed");
            first.WaitForLine("following", TimeSpan.FromSeconds(30));
            second.WaitForLine("following", TimeSpan.FromSeconds(30));

            var buffer = new byte[256];
            SharedLogException? full = null;
            while (full is null)
            {
                long sequence = writer.NextSequence;
                int length = Payloads.Fill(buffer, sequence, 16, 200);
                try
                {
                    writer.Append(buffer.AsSpan(0, length));
                }
                catch (SharedLogException e)
                {
                    full = e;
                }
            }

            Assert.Contains("MaxBytes", full.Message, StringComparison.Ordinal);
            writer.Complete();
            var status = log.GetStatus();
            Assert.Equal(10, status.ExtentCount);
            Assert.Equal(1022, status.HeadGeneration);
            Assert.Equal(GrowthFiles.ExpectedLength(log, 10), new FileInfo(log.FilePath).Length);
            Assert.Equal(GrowthFiles.ExpectedLength(log, 10), status.FileBytes);

            foreach (var child in new[] { first, second })
            {
                child.AssertSuccess(TimeSpan.FromMinutes(1));
                Assert.Contains($"read {writer.NextSequence} ", child.Output, StringComparison.Ordinal);
                Assert.Contains("mapped 10 of 10 extents", child.Output, StringComparison.Ordinal);
            }

            _output.WriteLine($"{writer.NextSequence} records in {status.HeadGeneration + 1} segments, {status.ExtentCount} extents, {status.FileBytes} bytes; MaxBytes {maxBytes}: {full.Message}");
        }
    }

    [Fact]
    public void A_reader_in_another_process_sees_a_record_in_a_newly_grown_extent_promptly()
    {
        // One record per segment: every append rolls, and appends 2^e - 1 grow the file.
        var options = GrowthFiles.Options(_dir.Path, maxBytes: 1L << 30, segmentCapacity: 1, segmentBytes: 64);
        var (writer, log) = SegmentedLog.CreateClaimed("latency", options);
        using (log)
        using (writer)
        {
            using var reader = Child.Start("growth-latency-reader", _dir.Path, "latency");
            reader.WaitForLine("following", TimeSpan.FromSeconds(30));
            Span<byte> payload = stackalloc byte[16];
            for (int i = 0; i < (1 << 11) - 1; i++)
            {
                long start = Stopwatch.GetTimestamp();
                long extents = log.File.ReadExtentCount();
                var claim = writer.Claim(16);
                bool grew = log.File.ReadExtentCount() != extents;
                BinaryPrimitives.WriteInt64LittleEndian(claim.Span, start);
                BinaryPrimitives.WriteInt64LittleEndian(claim.Span[8..], grew ? 1 : 0);
                claim.Commit();
                Thread.Sleep(1);
            }

            writer.Complete();
            reader.AssertSuccess(TimeSpan.FromMinutes(1));
            string grown = reader.WaitForLine("new extent ", TimeSpan.FromSeconds(1));
            string rolled = reader.WaitForLine("new segment in", TimeSpan.FromSeconds(1));
            _output.WriteLine($"append to visible in another process (1 ms apart, reader blocking): {grown}; {rolled}");
            Assert.Contains("n 10 ", grown, StringComparison.Ordinal);
        }
    }

    [ChildRole("growth-follower")]
    public static int Follower(string[] args)
    {
        using var log = SegmentedLog.Open(args[1], args[0]);
        using var reader = log.CreateReader(ReadFrom.Oldest);
        Console.WriteLine("following");
        long expected = 0;
        while (true)
        {
            while (reader.TryRead(out var record))
            {
                if (record.Sequence != expected || !Payloads.Verify(record.Payload, record.Sequence))
                {
                    Console.WriteLine($"FAIL record {record.Sequence}, expected {expected}, {record.Payload.Length} bytes");
                    return 1;
                }

                if (!reader.Validate())
                {
                    Console.WriteLine($"FAIL record {record.Sequence} changed while held");
                    return 1;
                }

                expected++;
            }

            if (!reader.Wait(TimeSpan.FromSeconds(10)))
            {
                break;
            }
        }

        var status = log.GetStatus();
        Console.WriteLine($"read {expected} lost {reader.LostCount}; mapped {status.MappedExtentCount} of {status.ExtentCount} extents");
        return reader.LostCount == 0 && reader.IsCompleted ? 0 : 1;
    }

    [ChildRole("growth-latency-reader")]
    public static int LatencyReader(string[] args)
    {
        using var log = SegmentedLog.Open(args[1], args[0]);
        using var reader = log.CreateReader(ReadFrom.Oldest);
        Console.WriteLine("following");
        var grown = new List<double>();
        var rolled = new List<double>();
        while (true)
        {
            while (reader.TryRead(out var record))
            {
                double micros = (Stopwatch.GetTimestamp() - BinaryPrimitives.ReadInt64LittleEndian(record.Payload)) * 1e6 / Stopwatch.Frequency;
                (BinaryPrimitives.ReadInt64LittleEndian(record.Payload[8..]) != 0 ? grown : rolled).Add(micros);
            }

            if (!reader.Wait(TimeSpan.FromSeconds(10)))
            {
                break;
            }
        }

        Console.WriteLine($"new extent {Describe(grown)}");
        Console.WriteLine($"new segment in a mapped extent {Describe(rolled)}");
        return 0;
    }

    private static string Describe(List<double> micros)
    {
        if (micros.Count == 0)
        {
            return "n 0";
        }

        micros.Sort();
        return string.Create(CultureInfo.InvariantCulture, $"n {micros.Count} median {micros[micros.Count / 2]:F1} us p90 {micros[(int)(micros.Count * 0.9)]:F1} us max {micros[^1]:F1} us");
    }
}
