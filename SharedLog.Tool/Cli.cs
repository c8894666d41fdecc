using System.CommandLine;
using System.CommandLine.Help;

namespace SharedLog.Tool;

/// <summary>
/// Exit codes, shared options and the one place that turns parse errors and library errors into messages that fit
/// a shell: bad arguments exit 2 with the usage, a failure exits 1 with the library's message, never a stack trace.
/// </summary>
internal static class Cli
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>The command ran and failed (missing file, not a SharedLog file, ...).</summary>
    public const int Failed = 1;

    /// <summary>The command line was wrong.</summary>
    public const int BadUsage = 2;

    /// <summary>The directory option every command takes.</summary>
    public static Option<string?> DirectoryOption() => new("--dir", "-d")
    {
        Description = $"The directory of the files (default: {SharedLogFiles.DefaultDirectory})",
        HelpName = "DIR",
    };

    /// <summary>The NAME argument of a file's commands.</summary>
    public static Argument<string> NameArgument() => new("NAME") { Description = "The log's or ring's name (its file name)" };

    /// <summary>A root command named <paramref name="name"/> with help and version, whatever the executable is called.</summary>
    public static Command Root(string name, string description) => new(name, description) { new HelpOption(), new VersionOption() };

    /// <summary>Parses <paramref name="args"/> and runs the chosen command, mapping errors to exit codes.</summary>
    public static int Run(Command root, string[] args)
    {
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            // The parser's own error action prints each error and the command's usage; both go to stderr.
            result.Invoke(new InvocationConfiguration { Output = Console.Error, Error = Console.Error });
            return BadUsage;
        }

        try
        {
            return result.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            return Ok; // Ctrl+C ends a follow or a watch: that is how it is meant to stop
        }
        catch (SharedLogException e)
        {
            Console.Error.WriteLine($"{root.Name}: {e.Message}");
            return Failed;
        }
        catch (ArgumentException e)
        {
            // The library validates names and options; a rejected one is a usage error.
            string message = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
            Console.Error.WriteLine($"{root.Name}: {message}");
            Console.Error.WriteLine($"Run '{root.Name} {result.CommandResult.Command.Name} --help' for usage.");
            return BadUsage;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"{root.Name}: {e.Message}");
            return Failed;
        }
        catch (UnauthorizedAccessException e)
        {
            Console.Error.WriteLine($"{root.Name}: {e.Message}");
            return Failed;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("SHAREDLOG_DEBUG") is not "1")
        {
            // A bug of ours: say what happened in one line; the stack trace is there for whoever asks for it.
            Console.Error.WriteLine($"{root.Name}: unexpected {e.GetType().Name}: {e.Message} (SHAREDLOG_DEBUG=1 shows the stack trace)");
            return Failed;
        }
    }

    /// <summary>Adds a check of a parsed value; a value that did not parse is already an error of its own.</summary>
    public static void Require<T>(Option<T> option, Func<T, bool> valid, string message)
        => option.Validators.Add(r =>
        {
            T value;
            try
            {
                value = r.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                return;
            }

            if (!valid(value))
            {
                r.AddError(message);
            }
        });

    /// <summary>A token cancelled by Ctrl+C (the process then ends normally instead of being killed).</summary>
    public static CancellationToken CancelOnCtrlC()
    {
        var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        return cts.Token;
    }
}
