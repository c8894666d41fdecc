using BenchmarkDotNet.Attributes;

namespace SharedLog.Benchmarks.Micro;

/// <summary>In-process cost of the append paths (no contention), with allocations counted.</summary>
[MemoryDiagnoser]
public class LogMicroBenchmarks
{
    /// <summary>Records appended, then read as one batch, per invocation of the batched benchmark.</summary>
    private const int BatchRecords = 256;

    private readonly byte[] _payload = new byte[64];
    private MicroLog _log = null!;
    private LogWriter _writer = null!;
    private LogReader? _reader;

    /// <summary>A 24-byte market-data tick, appended as an unmanaged value.</summary>
    public readonly record struct Tick(long Timestamp, double Price, int SymbolId, int Size);

    [GlobalSetup]
    public void Setup()
    {
        _log = new MicroLog(SlowReaderPolicy.Evict, retained: 1 << 16);
        _writer = _log.Writer;
    }

    [GlobalSetup(Targets = [nameof(AppendRead64), nameof(AppendReadBatch64)])]
    public void SetupWithReader()
    {
        Setup();
        _reader = _log.Log.CreateReader(ReadFrom.Latest);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reader?.Dispose();
        _log.Dispose();
    }

    [Benchmark(Description = "Append 64 B", Baseline = true)]
    public long Append64() => _writer.Append(_payload);

    [Benchmark(Description = "Append<Tick> 24 B")]
    public long AppendTick() => _writer.Append(new Tick(42, 101.25, 7, 300));

    [Benchmark(Description = "Claim 64 B + Commit")]
    public long ClaimCommit64()
    {
        var claim = _writer.Claim(64, typeId: 1);
        claim.Span[0] = 1;
        claim.Commit();
        return claim.Sequence;
    }

    [Benchmark(Description = "Append 64 B + TryRead + Validate")]
    public long AppendRead64()
    {
        _writer.Append(_payload);
        _reader!.TryRead(out var record);
        _reader.Validate();
        return record.Sequence;
    }

    [Benchmark(Description = "Append 64 B + TryReadBatch + foreach + Validate, per record", OperationsPerInvoke = BatchRecords)]
    public long AppendReadBatch64()
    {
        for (int i = 0; i < BatchRecords; i++)
        {
            _writer.Append(_payload);
        }

        long sum = 0;
        _reader!.TryReadBatch(BatchRecords, out var batch);
        foreach (var record in batch)
        {
            sum += record.Sequence;
        }

        _reader.Validate();
        return sum;
    }
}
