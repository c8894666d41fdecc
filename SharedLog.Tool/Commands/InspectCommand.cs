using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace SharedLog.Tool.Commands;

/// <summary>
/// <c>inspect NAME [--watch] [--json]</c>: options, writer lease, window, segments and reader table of a log or ring.
/// Inspecting takes no reader slot and writes nothing, so it never changes what the writer may reuse, and it works
/// on a file whose writer is dead.
/// </summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var name = Cli.NameArgument();
        var dir = Cli.DirectoryOption();
        var watch = new Option<bool>("--watch", "-w") { Description = "Refresh in place until Ctrl+C, with rates per second" };
        var json = new Option<bool>("--json") { Description = "Print one JSON document (with --watch, one per line)" };
        var interval = new Option<double>("--interval") { Description = "Seconds between refreshes with --watch", DefaultValueFactory = _ => 1.0, HelpName = "SECONDS" };
        var count = new Option<int>("--count", "-n") { Description = "With --watch, stop after this many refreshes; default: until Ctrl+C", HelpName = "N" };
        Cli.Require(interval, v => v is >= 0.05 and <= 3600, "--interval must be between 0.05 and 3600 seconds.");
        Cli.Require(count, v => v >= 1, "--count must be at least 1.");
        var command = new Command("inspect", "Describe a log or ring: options, writer lease, window, segments, readers") { name, dir, watch, json, interval, count };
        command.SetAction(parse => Run(parse.GetValue(name)!, parse.GetValue(dir), parse.GetValue(watch), parse.GetValue(json),
            TimeSpan.FromSeconds(parse.GetValue(interval)), parse.GetValue(count) is > 0 and var n ? n : null));
        return command;
    }

    private static int Run(string name, string? directory, bool watch, bool json, TimeSpan interval, int? count)
    {
        using var file = SharedLogFile.Open(name, directory, readOnly: true);
        if (!watch)
        {
            var report = Inspector.Describe(file);
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(report, new ToolJsonContext(new JsonSerializerOptions(ToolJsonContext.Default.Options) { WriteIndented = true }).FileReport));
            }
            else
            {
                AnsiConsole.Write(Render.Inspect(report));
            }

            return Cli.Ok;
        }

        var cancel = Cli.CancelOnCtrlC();
        var reports = Samples(file, interval, count, cancel);
        if (json)
        {
            foreach (var report in reports)
            {
                Console.WriteLine(JsonSerializer.Serialize(report, ToolJsonContext.Default.FileReport));
                Console.Out.Flush();
            }
        }
        else if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            foreach (var report in reports)
            {
                AnsiConsole.Write(Render.Inspect(report));
                AnsiConsole.WriteLine();
            }
        }
        else
        {
            using var samples = reports.GetEnumerator();
            if (samples.MoveNext())
            {
                AnsiConsole.Live(Render.Inspect(samples.Current)).AutoClear(false).Start(live =>
                {
                    while (samples.MoveNext())
                    {
                        live.UpdateTarget(Render.Inspect(samples.Current));
                    }
                });
            }
        }

        return Cli.Ok;
    }

    /// <summary>A report now, then one each <paramref name="interval"/> with rates, until cancelled or <paramref name="count"/> are taken.</summary>
    private static IEnumerable<FileReport> Samples(SharedLogFile file, TimeSpan interval, int? count, CancellationToken cancel)
    {
        FileReport? previous = null;
        for (int taken = 0; count is null || taken < count; taken++)
        {
            if (taken > 0 && cancel.WaitHandle.WaitOne(interval))
            {
                yield break;
            }

            previous = Inspector.Describe(file, previous);
            yield return previous;
        }
    }
}
