using System.Diagnostics;

namespace SharedLog.Benchmarks.CrossProcess;

/// <summary>
/// Starts this benchmark program again as a child process (a writer or reader role of a cross-process benchmark),
/// through its apphost or, when it runs as <c>dotnet SharedLog.Benchmarks.dll</c>, through <c>dotnet exec</c>.
/// </summary>
public static class SelfProcess
{
    /// <summary>Start info for <c>bench ARGS…</c> with standard output redirected (roles report on it).</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        string? path = Environment.ProcessPath;
        string assembly = typeof(SelfProcess).Assembly.Location;
        bool viaHost = path is null || Path.GetFileNameWithoutExtension(path) == "dotnet";
        var info = new ProcessStartInfo(viaHost ? path ?? "dotnet" : path!)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
        };
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

    /// <summary>Starts <c>bench ARGS…</c>.</summary>
    public static Process Start(IEnumerable<string> args)
        => Process.Start(StartInfo(args)) ?? throw new InvalidOperationException("could not start a child process");

    /// <summary>
    /// Pins the calling thread's process to one CPU (on Linux this is the main thread, which runs the measured loop;
    /// on Windows the whole process). Does nothing for a negative CPU or on other platforms.
    /// </summary>
    public static void PinTo(int cpu)
    {
        if (cpu < 0 || cpu >= Environment.ProcessorCount)
        {
            return;
        }

        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            using var self = Process.GetCurrentProcess();
            self.ProcessorAffinity = (nint)(1L << cpu);
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
