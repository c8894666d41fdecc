using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace SharedLog.Tool;

/// <summary>Spectre.Console renderings of the tool's documents.</summary>
internal static class Render
{
    /// <summary>The whole of <c>inspect</c>: a summary grid, then segments and readers.</summary>
    public static IRenderable Inspect(FileReport report)
    {
        var rows = new List<IRenderable> { Summary(report) };
        if (report.Log is { } log)
        {
            rows.Add(Segments(log));
        }

        rows.Add(Readers(report));
        return new Rows(rows);
    }

    /// <summary>The table of <c>list</c>.</summary>
    public static Table List(string directory, IReadOnlyList<ListEntry> entries)
    {
        var table = new Table { Border = TableBorder.Simple, Title = new TableTitle(Markup.Escape(directory)) };
        table.AddColumns("name", "kind", "size", "writer", "readers");
        foreach (var e in entries)
        {
            if (e.Error is not null)
            {
                table.AddRow(Markup.Escape(e.Name), "?", Format.Bytes(e.FileLength), $"[red]{Markup.Escape(e.Error)}[/]", "");
                continue;
            }

            string readers = e.Readers is { } n
                ? n.ToString(CultureInfo.InvariantCulture) + (e.DeadReaders is > 0 ? $" ({e.DeadReaders} dead)" : "")
                : "n/a";
            table.AddRow(Markup.Escape(e.Name), e.Kind, Format.Bytes(e.FileLength), Owner(e.WriterPid, e.WriterAlive), readers);
        }

        return table;
    }

    private static Grid Summary(FileReport report)
    {
        var grid = new Grid();
        grid.AddColumn(new GridColumn().NoWrap());
        grid.AddColumn();
        void Row(string key, string value) => grid.AddRow($"[bold]{key}[/]", value);
        Row(report.Kind, $"{Markup.Escape(report.Path)} ({Format.Bytes(report.FileLength)})");
        Row("writer", Owner(report.Writer.Pid, report.Writer.Alive) + (report.Writer.Pid != 0 && !report.Writer.Alive ? ": the lease can be taken over" : ""));
        if (report.Log is { } log)
        {
            Row("options", log.Retention == "Unbounded"
                ? $"{Format.Count(log.SegmentCapacity)} records or {Format.Bytes(log.SegmentBytes)} per segment, unbounded retention: " +
                  $"{log.ExtentCount} extents, growing up to {Format.Bytes(log.MaxBytes)}, {log.MaxReaders} reader slots"
                : $"{Format.Count(log.SegmentCapacity)} records or {Format.Bytes(log.SegmentBytes)} per segment, {log.SlotCount} segment slots, " +
                  $"{Format.Count(log.RetainedCapacity)} records retained, {log.MaxReaders} reader slots");
            Row("policy", Policy(log.SlowReaderPolicy, log.SlowReaderTimeoutSeconds));
            Row("window", $"sequences {Range(log.FirstSequence, log.NextSequence)} ({Format.Count(log.RecordCount)} records), " +
                $"segments {Range(log.OldestGeneration, log.HeadGeneration + 1)}" + (log.Completed ? ", [yellow]completed[/]" : ""));
        }

        if (report.Ring is { } ring)
        {
            Row("options", $"capacity {Format.Bytes(ring.Capacity)}, {ring.MaxReaders} reader slots");
            Row("policy", Policy(ring.SlowReaderPolicy, ring.SlowReaderTimeoutSeconds));
            Row("window", $"bytes {Range(ring.OldestPosition, ring.WriterPosition)} ({Format.Bytes(ring.WriterPosition - ring.OldestPosition)})" +
                (ring.Completed ? ", [yellow]completed[/]" : ""));
        }

        if (report.Rates is { } rates)
        {
            Row("rate", $"{Format.Rate(rates.AppendedPerSecond)} {rates.Unit} appended");
        }

        return grid;
    }

    private static Table Segments(LogReport log)
    {
        var table = new Table { Border = TableBorder.Simple, Title = new TableTitle("segments (oldest first)") };
        table.AddColumns("generation", "slot", "sequences", "records", "state");
        foreach (var s in log.Segments)
        {
            table.AddRow(Format.Count(s.Generation), s.Slot.ToString(CultureInfo.InvariantCulture), Range(s.FirstSequence, s.FirstSequence + s.Count),
                Format.Count(s.Count), s.IsHead ? "head (being written)" : "sealed");
        }

        return table;
    }

    private static IRenderable Readers(FileReport report)
    {
        if (report.Readers.Count == 0)
        {
            return new Markup("[bold]readers[/] none");
        }

        bool rates = report.Readers.Any(r => r.LostPerSecond is not null);
        var table = new Table { Border = TableBorder.Simple, Title = new TableTitle("readers") };
        table.AddColumns("slot", "pid", "alive", "kind", "state", "pin", "position", "lag", "lost");
        if (rates)
        {
            table.AddColumn("lost/s");
        }

        foreach (var r in report.Readers)
        {
            var cells = new List<string>
            {
                r.Slot.ToString(CultureInfo.InvariantCulture),
                r.Pid.ToString(CultureInfo.InvariantCulture),
                r.Alive ? "yes" : "[red]no[/]",
                r.Kind,
                r.State == "active" ? r.State : $"[yellow]{r.State}[/]",
                r.Pin >= 0 ? Format.Count(r.Pin) : "-",
                Format.Count(r.Position),
                Format.Count(r.Lag),
                Format.Count(r.LostCount),
            };
            if (rates)
            {
                cells.Add(r.LostPerSecond is { } rate ? Format.Rate(rate) : "-");
            }

            table.AddRow(cells.ToArray());
        }

        table.Caption = new TableTitle(report.Kind == "log"
            ? "pin: the oldest segment generation it may still read; position: its next sequence (a snapshot: its first); lag: records behind the writer"
            : "pin and position: the byte it reads next; lag: bytes behind the writer");
        return table;
    }

    private static string Range(long first, long end) => Markup.Escape(Format.Range(first, end));

    private static string Owner(int pid, bool alive)
        => pid == 0 ? "none" : alive ? $"pid {pid} [green](alive)[/]" : $"pid {pid} [red](dead)[/]";

    private static string Policy(string policy, double timeoutSeconds)
        => policy == nameof(SlowReaderPolicy.Block)
            ? string.Create(CultureInfo.InvariantCulture, $"Block (evicts a slow reader after {timeoutSeconds:0.###} s)")
            : $"{policy} (the writer never waits)";
}
