using System.Globalization;

namespace SharedLog.Demo.Reader;

/// <summary>
/// Reader side of the demo: <c>subscribe</c> tails a log (optionally slowly), <c>sidecar</c> attaches for a while
/// and detaches, <c>inspect</c> describes a log file.
/// </summary>
public static class Program
{
    private const string Usage =
        """
        usage: SharedLog.Demo.Reader subscribe NAME [--role LABEL] [--max-rate TICKS_PER_S] [--dir DIR]
               SharedLog.Demo.Reader sidecar NAME [--seconds S] [--dir DIR]
               SharedLog.Demo.Reader inspect NAME [DIR]
        """;

    public static int Main(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        string command = args[0];
        string name = args[1];
        var options = ParseOptions(args.AsSpan(2));
        if (options is null)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        string? directory = options.GetValueOrDefault("dir");
        return command switch
        {
            "subscribe" => Subscriber.Run(name, directory, options.GetValueOrDefault("role") ?? "subscriber", int.Parse(options.GetValueOrDefault("max-rate") ?? "0", CultureInfo.InvariantCulture)),
            "sidecar" => Sidecar.Run(name, directory, double.Parse(options.GetValueOrDefault("seconds") ?? "5", CultureInfo.InvariantCulture)),
            "inspect" => Inspect.Run(name, directory),
            _ => Fail($"unknown command '{command}'"),
        };
    }

    /// <summary><c>--key value</c> pairs; a lone positional argument is kept as "dir" for <c>inspect NAME DIR</c>.</summary>
    private static Dictionary<string, string>? ParseOptions(ReadOnlySpan<string> args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
            {
                options[args[i][2..]] = args[++i];
            }
            else if (i == 0 && args.Length == 1)
            {
                options["dir"] = args[0];
            }
            else
            {
                return null;
            }
        }

        return options;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        Console.Error.WriteLine(Usage);
        return 2;
    }
}
