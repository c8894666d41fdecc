using System.Diagnostics;
using SharedLog.Demo.Reader;

namespace SharedLog.Demo.Writer;

/// <summary>
/// One reader program running as a child process: the latest report of each kind it printed (JSON lines, see
/// <see cref="ReaderReport"/>), when the last one arrived, and the history of its <c>stats</c> reports for the chart.
/// </summary>
public sealed class ReaderProcess : IDisposable
{
    private readonly Process _process;
    private readonly Stopwatch _clock;
    private readonly Dictionary<string, ReaderReport> _latest = new(StringComparer.Ordinal);
    private readonly List<(double Seconds, ReaderReport Report)> _history = [];
    private double _lastReportAt;

    private ReaderProcess(string role, Process process, Stopwatch clock)
    {
        Role = role;
        _process = process;
        _clock = clock;
    }

    /// <summary>The role the reader reports under.</summary>
    public string Role { get; }

    /// <summary>The child's pid.</summary>
    public int Pid => _process.Id;

    /// <summary>Whether it has exited and with which code (null while it runs).</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>Seconds since its last report (any kind), on the demo's clock.</summary>
    public double SecondsSinceReport
    {
        get
        {
            lock (_latest)
            {
                return _clock.Elapsed.TotalSeconds - _lastReportAt;
            }
        }
    }

    /// <summary>Its <c>stats</c> reports so far, each with the demo-clock time it arrived.</summary>
    public IReadOnlyList<(double Seconds, ReaderReport Report)> History
    {
        get
        {
            lock (_latest)
            {
                return [.. _history];
            }
        }
    }

    /// <summary>Starts <c>SharedLog.Demo.Reader ARGS…</c>, the program that sits next to this one.</summary>
    /// <param name="role">The label of the row.</param>
    /// <param name="clock">The demo's clock, to time-stamp reports.</param>
    /// <param name="args">The reader's arguments.</param>
    public static ReaderProcess Start(string role, Stopwatch clock, params string[] args)
    {
        var info = ReaderStartInfo(args);
        var process = new Process { StartInfo = info };
        var reader = new ReaderProcess(role, process, clock);
        process.OutputDataReceived += (_, e) => reader.Parse(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        return reader;
    }

    /// <summary>Runs <c>SharedLog.Demo.Reader ARGS…</c> to completion and returns its output (for <c>inspect</c>).</summary>
    public static async Task<string> RunAsync(params string[] args)
    {
        using var process = Process.Start(ReaderStartInfo(args))!;
        string output = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        return output;
    }

    /// <summary>The latest report of <paramref name="kind"/>, or null if there was none yet.</summary>
    public ReaderReport? Latest(string kind)
    {
        lock (_latest)
        {
            return _latest.GetValueOrDefault(kind);
        }
    }

    /// <summary>Waits for the first <paramref name="kind"/> report; false on timeout or if the process exits first.</summary>
    public bool WaitFor(string kind, TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        while (Latest(kind) is null)
        {
            if (waited.Elapsed > timeout || _process.HasExited)
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

    private static ProcessStartInfo ReaderStartInfo(string[] args)
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

        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    private void Parse(string? line)
    {
        if (line is null || ReaderReport.Parse(line) is not { } report)
        {
            return;
        }

        lock (_latest)
        {
            double now = _clock.Elapsed.TotalSeconds;
            _latest[report.Kind] = report;
            _lastReportAt = now;
            if (report.Kind == "stats")
            {
                _history.Add((now, report));
            }
        }
    }
}
