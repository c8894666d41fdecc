using System.Diagnostics;

namespace SharedLog.Benchmarks.CrossProcess;

/// <summary>
/// Starts this benchmark program again as a child process (a writer or reader role of a cross-process benchmark),
/// through its apphost or, when it runs as <c>dotnet SharedLog.Benchmarks.dll</c>, through <c>dotnet exec</c>.
/// </summary>
public static class SelfProcess
{
    /// <summary>
    /// Start info for <c>bench ARGS…</c> with standard output redirected (roles report on it). With a
    /// <paramref name="cpu"/> of 0 or more (on Linux) the command line starts with <c>taskset -c CPU</c>, so every
    /// thread the child ever has (the runtime's, the library's dispatchers, and its own children unless they are
    /// pinned elsewhere) runs on that CPU, not only the thread that asks.
    /// </summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, int cpu = -1)
    {
        string? path = Environment.ProcessPath;
        string assembly = typeof(SelfProcess).Assembly.Location;
        bool viaHost = path is null || Path.GetFileNameWithoutExtension(path) == "dotnet";
        bool pin = cpu >= 0 && OperatingSystem.IsLinux();
        var info = new ProcessStartInfo(pin ? "taskset" : viaHost ? path ?? "dotnet" : path!)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
        };
        if (pin)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(cpu.ToString(System.Globalization.CultureInfo.InvariantCulture));
            info.ArgumentList.Add(viaHost ? path ?? "dotnet" : path!);
        }

        if (viaHost)
        {
            info.ArgumentList.Add("exec");
            info.ArgumentList.Add(assembly);
        }

        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    /// <summary>Starts <c>bench ARGS…</c>, under <c>taskset -c CPU</c> when <paramref name="cpu"/> is 0 or more.</summary>
    public static Process Start(IEnumerable<string> args, int cpu = -1)
        => Process.Start(StartInfo(args, cpu)) ?? throw new InvalidOperationException("could not start a child process");

    /// <summary>
    /// The CPUs this process's threads may run on, from <c>/proc/self/task/*/status</c>: one list when every thread
    /// has the same (e.g. <c>1</c> under <c>taskset -c 1</c>, <c>0-1</c> unpinned), the distinct lists joined by
    /// <c>/</c> when they differ, <c>?</c> where that is not known.
    /// </summary>
    public static string ThreadCpus()
    {
        var lists = new SortedSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                try
                {
                    foreach (string line in File.ReadLines(Path.Combine(task, "status")))
                    {
                        if (line.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))
                        {
                            lists.Add(line["Cpus_allowed_list:".Length..].Trim());
                        }
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The thread ended while we looked.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return lists.Count == 0 ? "?" : string.Join('/', lists);
    }

    /// <summary>
    /// How often the calling thread has been preempted (involuntary context switches, from
    /// <c>/proc/thread-self/status</c>), or -1 where that is not known: a measured loop preempted often was sharing
    /// its core.
    /// </summary>
    public static long Preemptions()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/thread-self/status"))
            {
                if (line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan("nonvoluntary_ctxt_switches:".Length).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }

        return -1;
    }

    /// <summary>Tells the parent this follower is attached (the line <see cref="AwaitReady"/> waits for).</summary>
    public static void AnnounceReady()
    {
        Console.WriteLine("ready");
        Console.Out.Flush();
    }

    /// <summary>Waits until <paramref name="child"/> announces it is attached; throws with what it said instead.</summary>
    public static void AwaitReady(Process child)
    {
        string? line = child.StandardOutput.ReadLine();
        if (line != "ready")
        {
            child.WaitForExit(5000);
            throw new InvalidOperationException($"a follower process did not attach (it said '{line}'{(child.HasExited ? $", exit code {child.ExitCode}" : "")})");
        }
    }

    /// <summary>Reads the child's output to the end, waits for it, and returns its lines; throws on a non-zero exit.</summary>
    public static IReadOnlyList<string> Finish(Process child, TimeSpan timeout)
    {
        var read = child.StandardOutput.ReadToEndAsync();
        if (!child.WaitForExit(timeout))
        {
            child.Kill(entireProcessTree: true);
            throw new TimeoutException($"child process {child.Id} did not finish within {timeout.TotalSeconds:0} s");
        }

        string output = read.GetAwaiter().GetResult();
        if (child.ExitCode != 0)
        {
            throw new InvalidOperationException($"child process {child.Id} exited with code {child.ExitCode}; its output was:\n{output}");
        }

        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
