namespace SharedLog.Tool.Tests;

/// <summary>A fresh directory per test, on tmpfs where there is one, removed afterwards.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(bool tmpfs = true)
    {
        string root = tmpfs && OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : System.IO.Path.GetTempPath();
        Path = System.IO.Path.Combine(root, $"sharedlog-tool-test-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
