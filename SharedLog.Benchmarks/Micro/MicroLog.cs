namespace SharedLog.Benchmarks.Micro;

/// <summary>A log in a throwaway directory for in-process microbenchmarks (on tmpfs where there is one).</summary>
internal sealed class MicroLog : IDisposable
{
    private readonly string _directory;

    public MicroLog(SlowReaderPolicy policy, long retained = 1 << 17, int segmentCapacity = 4096)
    {
        string root = OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        _directory = Path.Combine(root, "sharedlog-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_directory);
        (Writer, Log) = SegmentedLog.CreateClaimed("micro", new SegmentedLogOptions
        {
            SegmentCapacity = segmentCapacity,
            RetainedCapacity = retained,
            SlowReaderPolicy = policy,
            Directory = _directory,
        });
    }

    public SegmentedLog Log { get; }

    public LogWriter Writer { get; }

    /// <summary>Appends <paramref name="count"/> 64-byte records.</summary>
    public void Fill(int count)
    {
        Span<byte> payload = stackalloc byte[64];
        for (int i = 0; i < count; i++)
        {
            payload[0] = (byte)i;
            Writer.Append(payload);
        }
    }

    public void Dispose()
    {
        Writer.Dispose();
        Log.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
