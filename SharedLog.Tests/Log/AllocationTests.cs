using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Log;

/// <summary>
/// The steady-state append and read paths allocate nothing (DESIGN invariant 6). Each test warms up past several
/// wraps of every segment slot, then counts what the calling thread allocates over 100k operations.
/// </summary>
public sealed class AllocationTests : IDisposable
{
    private const int Warmup = 50_000;
    private const int Measured = 100_000;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private SegmentedLogOptions Options(SlowReaderPolicy policy) => new()
    {
        SegmentCapacity = 256,
        RetainedCapacity = 1024,
        SlowReaderPolicy = policy,
        Directory = _dir.Path,
    };

    private readonly record struct Tick(long Timestamp, double Price, int SymbolId, int Size);

    [Theory]
    [InlineData(SlowReaderPolicy.Block)]
    [InlineData(SlowReaderPolicy.Evict)]
    public void Append_TryRead_and_Validate_allocate_nothing_in_steady_state(SlowReaderPolicy policy)
    {
        var (writer, log) = SegmentedLog.CreateClaimed("alloc", Options(policy));
        using (log)
        using (writer)
        using (var reader = log.CreateReader(ReadFrom.Oldest))
        {
            long checksum = 0;
            void Run(int count)
            {
                Span<byte> payload = stackalloc byte[64];
                for (int i = 0; i < count; i++)
                {
                    payload[0] = (byte)i;
                    writer.Append(payload, typeId: 1);
                    writer.Append(new Tick(i, 101.25, i & 15, 100));
                    var claim = writer.Claim(64, typeId: 2);
                    claim.Span[0] = (byte)i;
                    claim.Commit();
                    for (int r = 0; r < 3; r++)
                    {
                        Assert.True(reader.TryRead(out var record));
                        checksum += record.Payload[0] + record.TypeId;
                        Assert.True(reader.Validate());
                    }

                    Assert.False(reader.TryRead(out _));
                }
            }

            Run(Warmup);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Run(Measured);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Equal(0, allocated);
            Assert.Equal(0, reader.LostCount);
            Assert.NotEqual(0, checksum);
        }
    }

    [Theory]
    [InlineData(SlowReaderPolicy.Block)]
    [InlineData(SlowReaderPolicy.Evict)]
    public void TryReadBatch_and_its_enumeration_allocate_nothing_and_deliver_every_record(SlowReaderPolicy policy)
    {
        var (writer, log) = SegmentedLog.CreateClaimed("alloc-batch", Options(policy));
        using (log)
        using (writer)
        using (var reader = log.CreateReader(ReadFrom.Oldest))
        {
            long next = 0;
            long batches = 0;
            long mismatches = 0;
            void Run(int count)
            {
                Span<byte> payload = stackalloc byte[24];
                for (int i = 0; i < count; i++)
                {
                    for (int a = 0; a < 7; a++)
                    {
                        BitConverter.TryWriteBytes(payload, writer.NextSequence);
                        writer.Append(payload, typeId: 3);
                    }

                    // Every other batch lingers (up to 1 µs for 3 records), so the linger is measured too.
                    while ((batches & 1) == 0 ? reader.TryReadBatch(5, out var batch) : reader.TryReadBatch(5, 3, TimeSpan.FromMicroseconds(1), out batch))
                    {
                        // Plain checks, not Assert.Equal: the assertions must not allocate inside the measured loop.
                        mismatches += batch.FirstSequence == next ? 0 : 1;
                        foreach (var record in batch)
                        {
                            mismatches += record.Sequence == next && BitConverter.ToInt64(record.Payload) == next ? 0 : 1;
                            next++;
                        }

                        mismatches += reader.Validate() ? 0 : 1;
                        batches++;
                    }
                }
            }

            Run(Warmup / 7);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Run(Measured / 7);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Equal(0, allocated);
            Assert.Equal(0, mismatches);
            Assert.Equal(0, reader.LostCount);
            Assert.Equal(writer.NextSequence, next);
            Assert.True(batches > next / 5, $"{batches} batches for {next} records");
        }
    }

    [Fact]
    public void Snapshot_Refresh_enumeration_and_TryGet_allocate_nothing_in_steady_state()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("alloc-snapshot", Options(SlowReaderPolicy.Block));
        using (log)
        using (writer)
        using (var snapshot = log.Snapshot())
        {
            long checksum = 0;
            void Run(int count)
            {
                Span<byte> payload = stackalloc byte[64];
                for (int i = 0; i < count; i++)
                {
                    payload[0] = (byte)i;
                    writer.Append(payload);
                    // Refresh often enough that the writer never has to wait for the snapshot's pin.
                    if (i % 100 != 0)
                    {
                        continue;
                    }

                    snapshot.Refresh();
                    foreach (var record in snapshot)
                    {
                        checksum += record.Payload[0];
                    }

                    foreach (var chunk in snapshot.Chunks)
                    {
                        checksum += chunk.Count;
                        foreach (var record in chunk)
                        {
                            checksum += record.Sequence;
                        }
                    }

                    Assert.True(snapshot.TryGet(snapshot.NextSequence - 1, out var last));
                    checksum += last.Payload[0];
                }
            }

            Run(Warmup);
            long before = GC.GetAllocatedBytesForCurrentThread();
            Run(Measured);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Equal(0, allocated);
            Assert.NotEqual(0, checksum);
        }
    }
}
