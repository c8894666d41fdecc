using SharedLog.Nats;
using SharedLog.Tool.Commands;

namespace SharedLog.Tool;

/// <summary>The <c>sharedlog</c> command: look at SharedLog logs and byte rings from a shell.</summary>
public static class Program
{
    /// <summary>Runs the tool; returns 0 on success, 1 on failure, 2 for a wrong command line.</summary>
    public static int Main(string[] args)
    {
        var root = Cli.Root("sharedlog", "Look at SharedLog files: segmented logs and byte rings in shared memory.");
        root.Add(ListCommand.Create());
        root.Add(InspectCommand.Create());
        root.Add(TailCommand.Create());
        root.Add(DumpCommand.Create());
        root.Add(DeleteCommand.Create());
        root.Add(BridgeCommands.Create());
        return Cli.Run(root, args);
    }
}
