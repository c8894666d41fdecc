using System.Diagnostics;
using System.Text;

namespace SharedLog.Tests.Infrastructure;

/// <summary>Starts this test assembly as a child process in a named role (see <see cref="ChildMain"/>).</summary>
public sealed class Child : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _error = new();

    private Child(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public static Child Start(string role, params string[] args) => Start(role, environment: null, args);

    /// <summary>
    /// For a child role: confines the calling process to the first CPU it may run on, so its threads share one core.
    /// False where that cannot be set (the role then has nothing to measure).
    /// </summary>
    public static bool ConfineToOneCpu()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        using var process = Process.GetCurrentProcess();
        nint allowed = process.ProcessorAffinity;
        process.ProcessorAffinity = allowed & -allowed;
        return true;
    }

    /// <summary>Like <see cref="Start(string, string[])"/>, with <paramref name="environment"/> set (or, for a null value, removed) in the child.</summary>
    public static Child Start(string role, IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h)
            ? h
            : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var info = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(typeof(Child).Assembly.Location);
        info.ArgumentList.Add(role);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        var child = new Child(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (child._output)
                {
                    child._output.AppendLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (child._error)
                {
                    child._error.AppendLine(e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

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

    /// <summary>Waits until a line of output starts with <paramref name="prefix"/>; returns that line.</summary>
    public string WaitForLine(string prefix, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (string line in Output.Split('\n'))
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return line.TrimEnd('\r');
                }
            }

            if (_process.HasExited)
            {
                _process.WaitForExit();
                foreach (string line in Output.Split('\n'))
                {
                    if (line.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        return line.TrimEnd('\r');
                    }
                }

                throw new InvalidOperationException($"Child exited ({_process.ExitCode}) before printing '{prefix}'.\nstdout:\n{Output}\nstderr:\n{Error}");
            }

            Thread.Sleep(5);
        }

        throw new TimeoutException($"Child did not print '{prefix}' within {timeout}.\nstdout:\n{Output}\nstderr:\n{Error}");
    }

    /// <summary>Waits for exit and returns the exit code; kills the child and fails on timeout.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            Kill();
            throw new TimeoutException($"Child did not exit within {timeout}.\nstdout:\n{Output}\nstderr:\n{Error}");
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Asserts a clean exit, with the child's output in the failure message.</summary>
    public void AssertSuccess(TimeSpan timeout)
    {
        int code = WaitForExit(timeout);
        Assert.True(code == 0, $"Child exited with {code}.\nstdout:\n{Output}\nstderr:\n{Error}");
    }

    public void WriteLine(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>SIGKILL on Unix: the child gets no chance to clean up.</summary>
    /// <remarks>
    /// Only the child itself: roles start no processes of their own, and walking the process tree first costs over
    /// 100 ms, which blurs the instant a crash test means to kill at.
    /// </remarks>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: false);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
