using System.CommandLine;
using System.CommandLine.Help;

namespace SharedLog.Demo.Reader;

/// <summary>
/// How the demo programs parse their command lines (System.CommandLine): a bad or unknown option prints the error and
/// the usage to stderr and exits 2; <c>--help</c> prints the usage and exits 0; a library error exits 1 with its message.
/// </summary>
public static class DemoCli
{
    /// <summary>A root command with help, named as the program is.</summary>
    public static Command Root(string name, string description) => new(name, description) { new HelpOption() };

    /// <summary>Checks a parsed value; one that did not parse is already an error of its own.</summary>
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

    /// <summary>Parses and runs; 2 for a wrong command line, 1 for a library error.</summary>
    public static int Run(Command root, string[] args)
    {
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            result.Invoke(new InvocationConfiguration { Output = Console.Error, Error = Console.Error });
            return 2;
        }

        try
        {
            return result.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (SharedLogException e)
        {
            Console.Error.WriteLine($"{root.Name}: {e.Message}");
            return 1;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"{root.Name}: {e.Message}");
            return 2;
        }
    }
}
