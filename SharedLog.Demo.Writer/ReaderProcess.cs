using System.Diagnostics;
using System.Globalization;
using SharedLog.Demo.Reader;

namespace SharedLog.Demo.Writer;

/// <summary>
/// One reader program running as a child process, and the latest line of each kind it printed
/// (<c>ready</c>, <c>stats</c>, <c>window</c>, <c>final</c>, <c>error</c>), parsed from <c>key=value</c> fields.
/// </summary>
public sealed class ReaderProcess : IDisposable
{
    private readonly Process _process;
    private readonly Dictionary<string, Dictionary<string, string>> _latest = new(StringComparer.Ordinal);

    private ReaderProcess(string role, Process process)
    {
        Role = role;
        _process = process;
    }

    /// <summary>The role the reader reports under.</summary>
    public string Role { get; }

    /// <summary>The child's pid.</summary>
    public int Pid => _process.Id;

    /// <summary>Whether it has exited and with which code (null while it runs).</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Starts <c>SharedLog.Demo.Reader ARGS…</c>, the program that sits next to this one.</summary>
    public static ReaderProcess Start(string role, params string[] args)
    {
        var info = ReaderStartInfo();
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        var reader = new ReaderProcess(role, process);
        process.OutputDataReceived += (_, e) => reader.Parse(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        return reader;
    }

    /// <summary>Runs <c>SharedLog.Demo.Reader ARGS…</c> to completion and returns its output (for <c>inspect</c>).</summary>
    public static async Task<string> RunAsync(params string[] args)
    {
        var info = ReaderStartInfo();
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        string output = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        return output;
    }

    /// <summary>The fields of the latest line of <paramref name="kind"/>, or null if there was none yet.</summary>
    public IReadOnlyDictionary<string, string>? Latest(string kind)
    {
        lock (_latest)
        {
            return _latest.GetValueOrDefault(kind);
        }
    }

    /// <summary>A numeric field of the latest line of <paramref name="kind"/>, or null.</summary>
    public long? Number(string kind, string key)
        => Latest(kind)?.GetValueOrDefault(key) is { } text && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : null;

    /// <summary>Waits for the first <paramref name="kind"/> line; false on timeout or if the process exits first.</summary>
    public bool WaitFor(string kind, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (Latest(kind) is null)
        {
            if (clock.Elapsed > timeout || _process.HasExited)
            {
                return Latest(kind) is not null;
            }

            Thread.Sleep(10);
        }

        return true;
    }

    /// <summary>Waits for the process to exit (and its output to be read); false on timeout.</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            return false;
        }

        _process.WaitForExit();
        return true;
    }

    /// <summary>Kills the process if it still runs.</summary>
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }

    private static ProcessStartInfo ReaderStartInfo()
    {
        // Run the reader the way this program was run: through its apphost, or through `dotnet exec`.
        string dll = typeof(Tick).Assembly.Location;
        string apphost = Path.ChangeExtension(dll, OperatingSystem.IsWindows() ? ".exe" : null);
        bool viaDotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" || !File.Exists(apphost);
        var info = new ProcessStartInfo(viaDotnet ? Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet" : apphost)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
        };
        if (viaDotnet)
        {
            info.ArgumentList.Add("exec");
            info.ArgumentList.Add(dll);
        }

        return info;
    }

    private void Parse(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return;
        }

        string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in parts.AsSpan(1))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                fields[part[..equals]] = part[(equals + 1)..];
            }
        }

        lock (_latest)
        {
            _latest[parts[0]] = fields;
        }
    }
}
