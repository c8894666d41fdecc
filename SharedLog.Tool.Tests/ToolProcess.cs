using System.Diagnostics;
using System.Text;

namespace SharedLog.Tool.Tests;

/// <summary>A child process running the <c>sharedlog</c> tool (or this test assembly), with its output captured.</summary>
public sealed class ToolProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private ToolProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <c>sharedlog ARGS…</c>.</summary>
    public static ToolProcess Start(params string[] args) => StartDll(typeof(SharedLog.Tool.Program).Assembly.Location, args);

    /// <summary>Starts this test assembly's <see cref="Program"/> as a child.</summary>
    public static ToolProcess StartSelf(params string[] args) => StartDll(typeof(ToolProcess).Assembly.Location, args);

    /// <summary>Runs <c>sharedlog ARGS…</c> to completion (at most a minute).</summary>
    public static ToolProcess Run(params string[] args)
    {
        var tool = Start(args);
        Assert.True(tool.WaitForExit(TimeSpan.FromMinutes(1)), $"sharedlog {string.Join(' ', args)} did not exit");
        return tool;
    }

    /// <summary>Starts <c>dotnet exec DLL ARGS…</c>.</summary>
    public static ToolProcess StartDll(string dll, IEnumerable<string> args, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(dll);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Start(info);
    }

    /// <summary>Starts a process with its output captured.</summary>
    public static ToolProcess Start(ProcessStartInfo info)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        var process = new Process { StartInfo = info };
        var child = new ToolProcess(process);
        process.OutputDataReceived += (_, e) => Append(child._output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(child._error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The dotnet host running these tests.</summary>
    public static string DotnetHost()
        => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h)
            ? h
            : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    /// <summary>Waits until the output contains <paramref name="text"/>; false on timeout or exit.</summary>
    public bool WaitForOutput(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (clock.Elapsed > timeout || _process.HasExited)
            {
                return Output.Contains(text, StringComparison.Ordinal);
            }

            Thread.Sleep(10);
        }

        return true;
    }

    /// <summary>Waits for exit and for the output to be read.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return false;
        }

        _process.WaitForExit();
        return true;
    }

    /// <summary>SIGKILL, then wait.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is not null)
        {
            lock (builder)
            {
                builder.AppendLine(line);
            }
        }
    }
}
