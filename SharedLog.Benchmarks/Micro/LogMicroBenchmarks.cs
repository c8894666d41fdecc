using BenchmarkDotNet.Attributes;

namespace SharedLog.Benchmarks.Micro;

/// <summary>In-process cost of the append and read paths (no contention), with allocations counted.</summary>
[MemoryDiagnoser]
public class LogMicroBenchmarks
{
    private readonly byte[] _payload = new byte[64];
    private string _directory = "";
    private SegmentedLog _log = null!;
    private LogWriter _writer = null!;
    private LogReader _reader = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(OperatingSystem.IsLinux() ? "/dev/shm" : Path.GetTempPath(), "sharedlog-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_directory);
        (_writer, _log) = SegmentedLog.CreateClaimed("micro", new SegmentedLogOptions
        {
            SegmentCapacity = 4096,
            RetainedCapacity = 1 << 16,
            SlowReaderPolicy = SlowReaderPolicy.Evict,
            Directory = _directory,
        });
        _reader = _log.CreateReader(ReadFrom.Latest);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reader.Dispose();
        _writer.Dispose();
        _log.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Description = "Append 64 B")]
    public long Append64() => _writer.Append(_payload);

    [Benchmark(Description = "Append 64 B + TryRead + Validate")]
    public long AppendRead64()
    {
        _writer.Append(_payload);
        _reader.TryRead(out var record);
        _reader.Validate();
        return record.Sequence;
    }
}
