using BenchmarkDotNet.Attributes;

namespace SharedLog.Benchmarks.Micro;

/// <summary>In-process cost of the read paths over 64-byte records already in the log, with allocations counted.</summary>
[MemoryDiagnoser]
public class LogReadBenchmarks
{
    /// <summary>Records appended before each iteration of the tailing-reader benchmark (one per invocation).</summary>
    private const int ReadsPerIteration = 1 << 16;

    /// <summary>Records in the snapshot the enumeration benchmarks walk.</summary>
    private const int SnapshotRecords = 1 << 16;

    private MicroLog _log = null!;
    private LogReader _reader = null!;
    private LogSnapshot _snapshot = null!;
    private long _probe;

    [GlobalSetup]
    public void Setup()
    {
        _log = new MicroLog(SlowReaderPolicy.Block, retained: 1 << 17);
        _reader = _log.Log.CreateReader(ReadFrom.Latest);
        _log.Fill(SnapshotRecords);
        _snapshot = _log.Log.Snapshot();
        while (_reader.TryRead(out _))
        {
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _snapshot.Dispose();
        _reader.Dispose();
        _log.Dispose();
    }

    /// <summary>Gives the tailing reader exactly one record per invocation of the next iteration.</summary>
    [IterationSetup(Target = nameof(TryReadValidate))]
    public void AppendForReader() => _log.Fill(ReadsPerIteration);

    [Benchmark(Description = "TryRead + Validate (64 B)")]
    [InvocationCount(ReadsPerIteration, 16)]
    public long TryReadValidate()
    {
        _reader.TryRead(out var record);
        _reader.Validate();
        return record.Sequence;
    }

    [Benchmark(Description = "snapshot foreach, per record", OperationsPerInvoke = SnapshotRecords)]
    public long EnumerateSnapshot()
    {
        long sum = 0;
        foreach (var record in _snapshot)
        {
            sum += record.Payload[0];
        }

        return sum;
    }

    [Benchmark(Description = "snapshot Chunks + foreach, per record", OperationsPerInvoke = SnapshotRecords)]
    public long EnumerateChunks()
    {
        long sum = 0;
        foreach (var chunk in _snapshot.Chunks)
        {
            foreach (var record in chunk)
            {
                sum += record.Payload[0];
            }
        }

        return sum;
    }

    [Benchmark(Description = "snapshot TryGet (strided)")]
    public int TryGet()
    {
        // A stride coprime with the record count visits every record, in an order the prefetcher cannot guess.
        _probe = (_probe + 7919) % _snapshot.Count;
        _snapshot.TryGet(_snapshot.FirstSequence + _probe, out var record);
        return record.Payload[0];
    }
}
