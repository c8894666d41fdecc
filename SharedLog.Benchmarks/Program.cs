using System.Reflection;
using BenchmarkDotNet.Running;

namespace SharedLog.Benchmarks;

/// <summary>
/// <c>bench suite [--quick|--full]</c> runs every cross-process comparison against its baselines in one harness;
/// <c>bench ping-pong</c> the idle-CPU, async and append-cost measurements; <c>bench micro [BenchmarkDotNet options]</c>
/// (or any other arguments) runs the microbenchmarks.
/// </summary>
/// <remarks>
/// Cross-process benchmarks start this program again as their child processes (with a <c>--role</c> option).
/// </remarks>
public static class Program
{
    /// <summary>Cross-process benchmarks that live in their own classes, found by name so each can be added on its own.</summary>
    private static readonly Dictionary<string, string> s_byName = new(StringComparer.Ordinal)
    {
        ["ping-pong"] = "SharedLog.Benchmarks.CrossProcess.PingPong",
        ["retention"] = "SharedLog.Benchmarks.Micro.RetentionComparison",
    };

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
        {
            PrintUsage();
            return args.Length == 0 ? 2 : 0;
        }

        if (args[0] == "suite")
        {
            return Suite.Suite.Run(args[1..]);
        }

        if (s_byName.TryGetValue(args[0], out string? typeName))
        {
            return RunByName(args[0], typeName, args[1..]);
        }

        string[] switcherArgs = args[0] == "micro" ? args[1..] : args;
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(switcherArgs);
        return 0;
    }

    /// <summary>Calls <c>public static int Run(string[] args)</c> on <paramref name="typeName"/>, or explains that it is absent.</summary>
    private static int RunByName(string command, string typeName, string[] args)
    {
        var type = typeof(Program).Assembly.GetType(typeName);
        var run = type?.GetMethod("Run", BindingFlags.Public | BindingFlags.Static, [typeof(string[])]);
        if (run is null || run.ReturnType != typeof(int))
        {
            Console.WriteLine($"{command}: skipped, this build has no {typeName}.Run(string[])");
            return 0;
        }

        return run.CreateDelegate<Func<string[], int>>()(args);
    }

    private static void PrintUsage() => Console.Error.WriteLine(
        """
        usage: bench COMMAND [options]
          suite [--quick|--full]   log and ring throughput, spinning and blocking round trips, each against its
                            baselines (raw shared-memory ring, futex, pipe, Unix socket), pinned and unpinned
          ping-pong         idle CPU of a waiting reader, async round trips, append cost
          retention [--records N] [--rounds R]   append and TryGet under Unbounded beside Window, interleaved
          micro [--filter PATTERN ...]   BenchmarkDotNet microbenchmarks (e.g. micro --filter '*')
        Each cross-process command takes --help.
        """);
}
