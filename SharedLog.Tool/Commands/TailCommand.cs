using System.CommandLine;
using System.Globalization;

namespace SharedLog.Tool.Commands;

/// <summary>
/// <c>tail NAME [--from oldest|latest|SEQUENCE] [--count N]</c>: follows records as they arrive, one line each:
/// <c>SEQUENCE TYPE LENGTH PAYLOAD</c>, tab-separated (for a ring, <c>POSITION LENGTH BYTES</c> per read). Tail is a
/// reader: it takes a reader slot while it runs.
/// </summary>
internal static class TailCommand
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(200);

    public static Command Create()
    {
        var name = Cli.NameArgument();
        var dir = Cli.DirectoryOption();
        var from = new Option<string>("--from")
        {
            Description = "Where to start: oldest (the oldest retained record), latest (the next one appended) or a sequence number (a byte position for a ring)",
            DefaultValueFactory = _ => "latest",
            HelpName = "oldest|latest|N",
        };
        Cli.Require(from, v => v is "oldest" or "latest" || long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out _),
            "--from must be oldest, latest or a non-negative number.");
        var count = new Option<long>("--count", "-n") { Description = "Stop after this many records (reads, for a ring); default: follow until Ctrl+C", HelpName = "N" };
        Cli.Require(count, v => v >= 1, "--count must be at least 1.");
        var payload = new PayloadOptions();
        var command = new Command("tail", "Follow records as they arrive: sequence, type id, length and payload, tab-separated") { name, dir, from, count };
        payload.AddTo(command);
        command.SetAction(parse => Run(parse.GetValue(name)!, parse.GetValue(dir), parse.GetValue(from)!, parse.GetValue(count) is > 0 and var n ? n : long.MaxValue,
            parse.GetValue(payload.Format), parse.GetValue(payload.MaxBytes)));
        return command;
    }

    /// <summary>
    /// Follows until <paramref name="count"/> records are printed, the writer completes the stream (exit 0), or the
    /// writer dies or the file is replaced once everything was read (the library's exception: exit 1 with its message).
    /// </summary>
    private static int Run(string name, string? directory, string from, long count, PayloadFormat format, int maxBytes)
    {
        var cancel = Cli.CancelOnCtrlC();
        using var file = SharedLogFile.Open(name, directory);
        return file.Log is { } log
            ? TailLog(log, from, count, format, maxBytes, cancel)
            : TailRing(file.Ring!, from, count, format, maxBytes, cancel);
    }

    private static int TailLog(SegmentedLog log, string from, long count, PayloadFormat format, int maxBytes, CancellationToken cancel)
    {
        long start = from switch
        {
            "oldest" => 0,
            "latest" => -1,
            _ => long.Parse(from, CultureInfo.InvariantCulture),
        };

        // A sequence beyond the next one starts the reader at the next one; records before it are skipped below.
        using var reader = start < 0 ? log.CreateReader(ReadFrom.Latest) : log.CreateReader(Math.Min(start, log.GetStatus().NextSequence));
        if (reader.LostCount > 0)
        {
            Console.Error.WriteLine($"tail: sequences {Format.Range(start, reader.NextSequence)} are no longer retained: {reader.LostCount:N0} records lost; starting at {reader.NextSequence:N0}");
        }

        var output = Console.Out;
        long printed = 0;
        long lost = reader.LostCount;
        while (printed < count && !cancel.IsCancellationRequested)
        {
            if (!reader.TryRead(out var record))
            {
                if (reader.IsCompleted)
                {
                    Console.Error.WriteLine("tail: the writer completed the log and every record was read");
                    break;
                }

                // Throws WriterDiedException or FileReplacedException once every committed record was read: exit 1 with its message.
                reader.Wait(s_poll, cancel);
                continue;
            }

            if (record.Sequence < start)
            {
                continue;
            }

            string line = string.Create(CultureInfo.InvariantCulture,
                $"{record.Sequence}\t{record.TypeId}\t{record.Payload.Length}\t{Payload.Show(record.Payload, format, maxBytes)}");
            if (!reader.Validate())
            {
                continue; // overwritten while we formatted it: counted in LostCount, reported below
            }

            output.WriteLine(line);
            printed++;
            if (reader.LostCount != lost)
            {
                Console.Error.WriteLine($"tail: lost {reader.LostCount - lost:N0} records (the writer reused their segments before tail read them)");
                lost = reader.LostCount;
            }
        }

        output.Flush();
        return Cli.Ok;
    }

    private static int TailRing(ByteRing ring, string from, long count, PayloadFormat format, int maxBytes, CancellationToken cancel)
    {
        using var reader = ring.CreateReader(from == "oldest" ? ReadFrom.Oldest : ReadFrom.Latest);
        if (from is not ("oldest" or "latest"))
        {
            long position = long.Parse(from, CultureInfo.InvariantCulture);
            reader.Seek(Math.Clamp(position, ring.OldestPosition, ring.WriterPosition));
        }

        var output = Console.Out;
        long printed = 0;
        while (printed < count && !cancel.IsCancellationRequested)
        {
            long position = reader.Position;
            int available = reader.GetReadSpans(out var first, out var second);
            if (available == 0)
            {
                if (reader.IsCompleted)
                {
                    Console.Error.WriteLine("tail: the writer completed the stream");
                    break;
                }

                // Throws WriterDiedException or FileReplacedException once every byte was read: exit 1 with its message.
                reader.Wait(s_poll, cancel);
                continue;
            }

            byte[] bytes = [.. first, .. second];
            if (!reader.Validate())
            {
                continue; // lapped while copying: the reader resynchronises and counts the loss in LostBytes
            }

            reader.Advance(available);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{position}\t{bytes.Length}\t{Payload.Show(bytes, format, maxBytes)}"));
            printed++;
        }

        output.Flush();
        return Cli.Ok;
    }
}
