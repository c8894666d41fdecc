using System.Diagnostics;
using System.Globalization;
using System.IO.Pipes;

namespace SharedLog.Benchmarks.CrossProcess;

/// <summary>The writer and reader child processes of <c>log-throughput</c>.</summary>
public static partial class LogThroughput
{
    /// <summary>Type id of the log record that ends a measurement (its payload: count, checksum).</summary>
    private const int EndTypeId = 1;

    /// <summary>Messages written between two looks at the clock.</summary>
    private const int Burst = 256;

    private const int PipeBufferLength = 64 * 1024;

    private static int WriterRole(BenchOptions options)
    {
        string transport = options.Text("transport", "log");
        int size = (int)options.Integer("size", 64);
        double seconds = options.Number("seconds", 1);
        int writerCpu = (int)options.Integer("writer-cpu", -1);
        string readerCpu = options.Text("reader-cpu", "-1");
        int segmentCapacity = (int)options.Integer("segment-capacity", 4096);
        long retained = options.Integer("retained", 1 << 16);
        string? directory = options.TextOrNull("dir");
        options.ThrowIfUnknown();
        SelfProcess.PinTo(writerCpu);
        string[] readerArgs = ["log-throughput", "--role", "reader", "--transport", transport, "--size", size.ToString(CultureInfo.InvariantCulture), "--reader-cpu", readerCpu];
        long duration = (long)(seconds * Stopwatch.Frequency);

        if (transport is "log" or "log-evict")
        {
            string name = $"bench-log-{Environment.ProcessId}";
            SegmentedLog.Delete(name, directory);
            var (writer, log) = SegmentedLog.CreateClaimed(name, new SegmentedLogOptions
            {
                SegmentCapacity = segmentCapacity,
                RetainedCapacity = retained,
                SlowReaderPolicy = transport == "log" ? SlowReaderPolicy.Block : SlowReaderPolicy.Evict,
                SlowReaderTimeout = TimeSpan.FromSeconds(30),
                Directory = directory,
            });
            try
            {
                using var reader = SelfProcess.Start([.. readerArgs, "--name", name, .. directory is null ? Array.Empty<string>() : ["--dir", directory]]);
                AwaitReady(reader);
                var result = WriteLog(writer, size, duration);
                Span<long> end = [result.Count, result.Checksum];
                writer.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(end), EndTypeId);
                Report(result, SelfProcess.Finish(reader, TimeSpan.FromMinutes(1)));
            }
            finally
            {
                writer.Dispose();
                log.Dispose();
                SegmentedLog.Delete(name, directory);
            }
        }
        else
        {
            using var pipe = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.Inheritable);
            using var reader = SelfProcess.Start([.. readerArgs, "--pipe-handle", pipe.GetClientHandleAsString()]);
            pipe.DisposeLocalCopyOfClientHandle();
            AwaitReady(reader);
            WriteResult result;
            if (transport == "pipe-batched")
            {
                using var buffered = new BufferedStream(pipe, PipeBufferLength);
                result = WriteStream(buffered, size, duration);
            }
            else
            {
                result = WriteStream(pipe, size, duration);
            }

            pipe.Dispose();
            Report(result, SelfProcess.Finish(reader, TimeSpan.FromMinutes(1)));
        }

        return 0;
    }

    private static WriteResult WriteLog(LogWriter writer, int size, long duration)
    {
        Span<byte> message = stackalloc byte[size];
        long sequence = 0;
        long checksum = 0;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        long deadline = start + duration;
        do
        {
            for (int i = 0; i < Burst; i++)
            {
                checksum += TestMessage.Fill(message, sequence++);
                writer.Append(message);
            }
        }
        while (Stopwatch.GetTimestamp() < deadline);

        long end = Stopwatch.GetTimestamp();
        return new WriteResult(sequence, checksum, start, end, GC.GetAllocatedBytesForCurrentThread() - allocated);
    }

    private static WriteResult WriteStream(Stream output, int size, long duration)
    {
        Span<byte> message = stackalloc byte[size];
        long sequence = 0;
        long checksum = 0;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        long deadline = start + duration;
        do
        {
            for (int i = 0; i < Burst; i++)
            {
                checksum += TestMessage.Fill(message, sequence++);
                output.Write(message);
            }
        }
        while (Stopwatch.GetTimestamp() < deadline);

        output.Flush();
        long end = Stopwatch.GetTimestamp();
        return new WriteResult(sequence, checksum, start, end, GC.GetAllocatedBytesForCurrentThread() - allocated);
    }

    private static int ReaderRole(BenchOptions options)
    {
        string transport = options.Text("transport", "log");
        int size = (int)options.Integer("size", 64);
        int cpu = (int)options.Integer("reader-cpu", -1);
        string? name = options.TextOrNull("name");
        string? directory = options.TextOrNull("dir");
        string? handle = options.TextOrNull("pipe-handle");
        options.ThrowIfUnknown();
        SelfProcess.PinTo(cpu);

        if (transport is "log" or "log-evict")
        {
            using var log = SegmentedLog.Open(name ?? throw new ArgumentException("--name is required"), directory);
            using var reader = log.CreateReader(ReadFrom.Oldest);
            Console.WriteLine("ready");
            Console.WriteLine(ReadLog(reader));
        }
        else
        {
            using var pipe = new AnonymousPipeClientStream(PipeDirection.In, handle ?? throw new ArgumentException("--pipe-handle is required"));
            Console.WriteLine("ready");
            Console.WriteLine(ReadStream(pipe, size));
        }

        return 0;
    }

    private static string ReadLog(LogReader reader)
    {
        long count = 0;
        long checksum = 0;
        long bad = 0;
        long previous = -1;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        while (true)
        {
            if (!reader.TryRead(out var record))
            {
                if (!reader.Wait(TimeSpan.FromSeconds(30)))
                {
                    throw new TimeoutException("no record for 30 s");
                }

                continue;
            }

            if (record.TypeId == EndTypeId)
            {
                break;
            }

            long sum = 0;
            long sequence = TestMessage.Check(record.Payload, ref sum);

            // Validate after use: under Evict the record may have been overwritten while it was read (then it counts in LostCount).
            if (!reader.Validate())
            {
                continue;
            }

            if (sequence != record.Sequence || sequence <= previous)
            {
                bad++;
            }

            previous = sequence;
            count++;
            checksum += sum;
        }

        long end = Stopwatch.GetTimestamp();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        return Fields.Line("reader", ("count", count), ("lost", reader.LostCount), ("bad", bad), ("checksum", checksum), ("end", end), ("alloc", allocated));
    }

    private static string ReadStream(Stream input, int size)
    {
        byte[] buffer = new byte[Math.Max(PipeBufferLength, size)];
        int filled = 0;
        long count = 0;
        long checksum = 0;
        long bad = 0;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        while (true)
        {
            int read = input.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
            {
                break;
            }

            filled += read;
            int offset = 0;
            for (; filled - offset >= size; offset += size)
            {
                if (TestMessage.Check(buffer.AsSpan(offset, size), ref checksum) != count)
                {
                    bad++;
                }

                count++;
            }

            // Keep a partial message for the next read.
            buffer.AsSpan(offset, filled - offset).CopyTo(buffer);
            filled -= offset;
        }

        long end = Stopwatch.GetTimestamp();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        if (filled != 0)
        {
            bad++;
        }

        return Fields.Line("reader", ("count", count), ("lost", 0), ("bad", bad), ("checksum", checksum), ("end", end), ("alloc", allocated));
    }

    private static void AwaitReady(Process reader)
    {
        string? line = reader.StandardOutput.ReadLine();
        if (line != "ready")
        {
            reader.WaitForExit(5000);
            throw new InvalidOperationException($"the reader process did not attach (it said '{line}'{(reader.HasExited ? $", exit code {reader.ExitCode}" : "")})");
        }
    }

    private static void Report(WriteResult result, IReadOnlyList<string> readerLines)
    {
        Console.WriteLine(Fields.Line("writer", ("count", result.Count), ("checksum", result.Checksum), ("start", result.Start), ("end", result.End), ("alloc", result.Allocated)));
        foreach (string line in readerLines)
        {
            Console.WriteLine(line);
        }
    }

    private readonly record struct WriteResult(long Count, long Checksum, long Start, long End, long Allocated);
}
