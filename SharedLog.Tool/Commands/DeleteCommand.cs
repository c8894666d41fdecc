using System.CommandLine;

namespace SharedLog.Tool.Commands;

/// <summary><c>delete NAME [--force]</c>: removes a log or ring file; refuses while its writer lives unless forced.</summary>
internal static class DeleteCommand
{
    public static Command Create()
    {
        var name = Cli.NameArgument();
        var dir = Cli.DirectoryOption();
        var force = new Option<bool>("--force", "-f") { Description = "Delete even while the writer is alive (processes that have it open keep their mapping)" };
        var command = new Command("delete", "Delete a log or ring file") { name, dir, force };
        command.SetAction(parse => Run(parse.GetValue(name)!, parse.GetValue(dir), parse.GetValue(force)));
        return command;
    }

    private static int Run(string name, string? directory, bool force)
    {
        string kind;
        string path;
        using (var file = SharedLogFile.Open(name, directory, readOnly: true))
        {
            var report = Inspector.Describe(file);
            (kind, path) = (file.Kind, file.FilePath);
            if (report.Writer.Alive && !force)
            {
                Console.Error.WriteLine($"sharedlog: the {kind}'s writer ({Format.Owner(report.Writer.Pid, true)}) is still running; pass --force to delete it anyway.");
                return Cli.Failed;
            }
        }

        bool deleted = kind == "log" ? SegmentedLog.Delete(name, directory) : ByteRing.Delete(name, directory);
        Console.WriteLine(deleted ? $"deleted {kind} {path}" : $"{path} was already gone");
        return Cli.Ok;
    }
}
