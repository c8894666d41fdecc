using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SharedLog.Nats.Tests.Infrastructure;

/// <summary>
/// A real nats-server with JetStream (file storage in the test's directory) on a free loopback port, stopped and
/// its store removed afterwards. Missing nats-server: the test fails under CI (CI=true) and skips otherwise.
/// </summary>
public sealed class NatsServer : IDisposable
{
    private static readonly string[] s_searchPath = ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"];
    private readonly string _executable;
    private readonly string _storeDirectory;
    private readonly StringBuilder _log = new();
    private Process? _process;

    private NatsServer(string executable, string storeDirectory, int port)
    {
        _executable = executable;
        _storeDirectory = storeDirectory;
        Port = port;
    }

    public int Port { get; }

    public string Url => $"nats://127.0.0.1:{Port}";

    public int Pid => _process?.Id ?? 0;

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts a server storing under <paramref name="directory"/>; skips (or fails under CI) without nats-server.</summary>
    public static NatsServer Start(TempDirectory directory)
    {
        string? executable = Find();
        if (executable is null)
        {
            const string reason = "nats-server is not installed (scripts/test.sh installs it with apt-get)";
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", reason + "; under CI the bridge tests must run.");
            Skip.If(true, reason);
        }

        var server = new NatsServer(executable!, directory.Sub("jetstream"), FreePort());
        server.Restart();
        return server;
    }

    /// <summary>Starts the server (again), on the same port and store, and waits until it accepts connections.</summary>
    public void Restart()
    {
        Debug.Assert(_process is null or { HasExited: true });
        _process?.Dispose();
        var info = new ProcessStartInfo(_executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "-js", "-sd", _storeDirectory, "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"nats-server exited ({process.ExitCode}):\n{Log}");
            }

            if (Log.Contains("Server is ready", StringComparison.Ordinal) && CanConnect())
            {
                return;
            }

            Thread.Sleep(20);
        }

        throw new TimeoutException($"nats-server did not get ready on port {Port}:\n{Log}");
    }

    /// <summary>SIGKILL: the server gets no chance to flush or say goodbye.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        Kill();
        _process?.Dispose();
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    private bool CanConnect()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string? Find()
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(s_searchPath))
        {
            if (directory.Length > 0 && File.Exists(Path.Combine(directory, "nats-server")))
            {
                return Path.Combine(directory, "nats-server");
            }
        }

        return null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
