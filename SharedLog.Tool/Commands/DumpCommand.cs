using System.CommandLine;
using System.Globalization;
using System.Text;

namespace SharedLog.Tool.Commands;

/// <summary>
/// <c>dump NAME</c>: every retained record of a log, segment by segment, from one snapshot (which takes a reader
/// slot while it is read); for a ring, the intact bytes <c>[oldest, writer)</c> as a hex dump.
/// </summary>
internal static class DumpCommand
{
    public static Command Create()
    {
        var name = Cli.NameArgument();
        var dir = Cli.DirectoryOption();
        var payload = new PayloadOptions();
        var command = new Command("dump", "Print a snapshot of every retained record (a ring: its intact bytes as hex)") { name, dir };
        payload.AddTo(command);
        command.SetAction(parse => Run(parse.GetValue(name)!, parse.GetValue(dir), parse.GetValue(payload.Format), parse.GetValue(payload.MaxBytes)));
        return command;
    }

    private static int Run(string name, string? directory, PayloadFormat format, int maxBytes)
    {
        using var file = SharedLogFile.Open(name, directory);
        Console.Out.Write(file.Log is { } log ? DumpLog(log, format, maxBytes) : DumpRing(file.Ring!));
        return Cli.Ok;
    }

    private static string DumpLog(SegmentedLog log, PayloadFormat format, int maxBytes)
    {
        using var snapshot = log.Snapshot();
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return Write(snapshot, format, maxBytes);
            }
            catch (ReaderEvictedException) when (attempt < 5)
            {
                // Under Evict the writer reused a segment of the snapshot while we read it: take a fresh one.
                snapshot.Refresh();
            }
        }
    }

    private static string Write(LogSnapshot snapshot, PayloadFormat format, int maxBytes)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# {snapshot.Count:N0} records, sequences {Format.Range(snapshot.FirstSequence, snapshot.NextSequence)}; SEQUENCE TYPE LENGTH PAYLOAD\n");
        foreach (var chunk in snapshot.Chunks)
        {
            text.Append(CultureInfo.InvariantCulture, $"# segment {chunk.SegmentSequence:N0}: sequences {Format.Range(chunk.FirstSequence, chunk.FirstSequence + chunk.Count)}\n");
            foreach (var record in chunk)
            {
                text.Append(CultureInfo.InvariantCulture, $"{record.Sequence}\t{record.TypeId}\t{record.Payload.Length}\t{Payload.Show(record.Payload, format, maxBytes)}\n");
            }
        }

        return text.ToString();
    }

    private static string DumpRing(ByteRing ring)
    {
        using var reader = ring.CreateReader(ReadFrom.Oldest);
        long end = ring.WriterPosition;
        var bytes = new List<byte>();
        long start = reader.Position;
        while (reader.Position < end)
        {
            int available = reader.GetReadSpans(out var first, out var second);
            int take = (int)Math.Min(available, end - reader.Position);
            byte[] chunk = [.. first, .. second];
            if (!reader.Validate())
            {
                // Lapped while copying: start again from what is intact now.
                bytes.Clear();
                start = reader.Position;
                continue;
            }

            bytes.AddRange(chunk.AsSpan(0, take));
            reader.Advance(take);
        }

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# {bytes.Count:N0} bytes, positions {Format.Range(start, start + bytes.Count)}{(ring.IsCompleted ? ", completed" : "")}\n");
        for (int offset = 0; offset < bytes.Count; offset += 16)
        {
            var line = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes).Slice(offset, Math.Min(16, bytes.Count - offset));
            text.Append(CultureInfo.InvariantCulture, $"{start + offset,12}  {Convert.ToHexStringLower(line),-32}  ");
            foreach (byte b in line)
            {
                text.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
            }

            text.Append('\n');
        }

        return text.ToString();
    }
}
