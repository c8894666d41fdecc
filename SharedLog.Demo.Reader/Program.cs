using System.CommandLine;

namespace SharedLog.Demo.Reader;

/// <summary>
/// Reader side of the demo: <c>subscribe</c> tails a log (optionally slowly), <c>sidecar</c> attaches for a while
/// and detaches, <c>inspect</c> describes a log file. Readers report as JSON lines (<see cref="ReaderReport"/>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = DemoCli.Root("SharedLog.Demo.Reader", "The reader processes of the SharedLog demo; they print JSON lines for the demo's writer.");
        root.Add(Subscribe());
        root.Add(SidecarCommand());
        root.Add(InspectCommand());
        return DemoCli.Run(root, args);
    }

    private static Argument<string> Name() => new("NAME") { Description = "The log's name" };

    private static Option<string?> Dir() => new("--dir") { Description = "The log's directory (default: the library's)", HelpName = "DIR" };

    private static Command Subscribe()
    {
        var name = Name();
        var dir = Dir();
        var role = new Option<string>("--role") { Description = "The label this reader reports under", DefaultValueFactory = _ => "subscriber" };
        var maxRate = new Option<int>("--max-rate") { Description = "Read at most this many ticks per second (0: as fast as possible)", HelpName = "TICKS_PER_S" };
        DemoCli.Require(maxRate, v => v >= 0, "--max-rate must not be negative.");
        var command = new Command("subscribe", "Tail the log from the oldest retained tick to the end of the session") { name, dir, role, maxRate };
        command.SetAction(p => Subscriber.Run(p.GetValue(name)!, p.GetValue(dir), p.GetValue(role)!, p.GetValue(maxRate)));
        return command;
    }

    private static Command SidecarCommand()
    {
        var name = Name();
        var dir = Dir();
        var seconds = new Option<double>("--seconds") { Description = "How long to stay attached", DefaultValueFactory = _ => 5, HelpName = "S" };
        DemoCli.Require(seconds, v => v > 0, "--seconds must be positive.");
        var command = new Command("sidecar", "Attach, summarise the recent window, tail for a while, detach") { name, dir, seconds };
        command.SetAction(p => Sidecar.Run(p.GetValue(name)!, p.GetValue(dir), p.GetValue(seconds)));
        return command;
    }

    private static Command InspectCommand()
    {
        var name = Name();
        var dir = Dir();
        var command = new Command("inspect", "Describe the log without taking a reader slot") { name, dir };
        command.SetAction(p => Inspect.Run(p.GetValue(name)!, p.GetValue(dir)));
        return command;
    }
}
