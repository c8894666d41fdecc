using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace SharedLog.Tool.Commands;

/// <summary><c>list [--dir DIR] [--json]</c>: the SharedLog files in a directory, with writer and readers.</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var dir = Cli.DirectoryOption();
        var json = new Option<bool>("--json") { Description = "Print one JSON array instead of a table" };
        var command = new Command("list", "List the SharedLog files in a directory: kind, size, writer alive or dead, readers") { dir, json };
        command.SetAction(parse => Run(parse.GetValue(dir), parse.GetValue(json)));
        return command;
    }

    private static int Run(string? directory, bool json)
    {
        string where = directory ?? SharedLogFiles.DefaultDirectory;
        if (!Directory.Exists(where))
        {
            throw new SharedLogException($"The directory '{where}' does not exist.");
        }

        var entries = new List<ListEntry>();
        foreach (string path in Directory.EnumerateFiles(where).Order(StringComparer.Ordinal))
        {
            if (Describe(path, directory) is { } entry)
            {
                entries.Add(entry);
            }
        }

        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(entries, ToolJsonContext.Default.IReadOnlyListListEntry));
        }
        else if (entries.Count == 0)
        {
            Console.WriteLine($"no SharedLog files in {where}");
        }
        else
        {
            AnsiConsole.Write(Render.List(where, entries));
        }

        return Cli.Ok;
    }

    /// <summary>One file's row, or null when it is not a SharedLog file (other programs share the directory too).</summary>
    private static ListEntry? Describe(string path, string? directory)
    {
        string name = Path.GetFileName(path);
        if (!SharedLogFiles.IsValidName(name))
        {
            return null; // not ours, or a file being created (its temporary name starts with '.')
        }

        long length = new FileInfo(path).Length;
        try
        {
            using var file = SharedLogFile.Open(name, directory, readOnly: true);
            var report = Inspector.Describe(file);
            return new ListEntry(name, file.Kind, length, report.Writer.Pid, report.Writer.Alive,
                report.Readers.Count, report.Readers.Count(r => !r.Alive), null);
        }
        catch (SharedLogFormatException)
        {
            return null;
        }
        catch (SharedLogException) when (!File.Exists(path))
        {
            return null; // deleted since the directory was read
        }
        catch (SharedLogException e) when (e.InnerException is UnauthorizedAccessException)
        {
            return new ListEntry(name, "?", length, 0, false, null, null, "no access");
        }
    }
}
