using System.Buffers.Binary;
using SharedLog.Layout;
using SharedLog.Leases;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Log;

/// <summary>
/// Claims, record writers and writers used after they stopped being valid: discarded by a later append, disposed, or
/// left holding a lease that another process took over. Nothing reachable through them may write to the mapping.
/// </summary>
public sealed class WriterHandleTests : IDisposable
{
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Append_discards_an_open_record_writer_and_its_commit_throws()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("rw", new SegmentedLogOptions { Directory = _dir.Path });
        using (writer)
        using (log)
        {
            var record = writer.BeginRecord(typeId: 5);
            record.GetSpan(8).Fill(0xAB);
            record.Advance(8);
            long appended = writer.Append([1, 2, 3], typeId: 9);

            Assert.Throws<InvalidOperationException>(() => record.Commit());
            Assert.Throws<InvalidOperationException>(() => record.GetSpan(1));

            using var snapshot = log.Snapshot();
            Assert.Equal(1, snapshot.Count);
            Assert.True(snapshot.TryGet(appended, out var published));
            Assert.Equal(9, published.TypeId);
            Assert.Equal(new byte[] { 1, 2, 3 }, published.Payload.ToArray());
            Assert.Equal(appended + 1, writer.NextSequence);
        }
    }

    [Fact]
    public void Claim_discards_an_open_record_writer()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("rw-claim", new SegmentedLogOptions { Directory = _dir.Path });
        using (writer)
        using (log)
        {
            var record = writer.BeginRecord();
            record.GetSpan(4).Fill(1);
            record.Advance(4);
            var claim = writer.Claim(4, typeId: 2);
            claim.Span.Fill(7);
            claim.Commit();
            Assert.Throws<InvalidOperationException>(() => record.Commit());

            using var snapshot = log.Snapshot();
            Assert.True(snapshot.TryGet(0, out var r));
            Assert.Equal(2, r.TypeId);
            Assert.Equal(new byte[] { 7, 7, 7, 7 }, r.Payload.ToArray());
        }
    }

    [Fact]
    public void Handles_used_after_dispose_throw_and_never_touch_the_mapping()
    {
        // In a child process: a regression here is an access violation, which would take the test host down.
        using var child = Child.Start("use-after-dispose", _dir.Path);
        child.AssertSuccess(ChildTimeout);
        Assert.Contains("ok", child.Output, StringComparison.Ordinal);
    }

    [ChildRole("use-after-dispose")]
    public static int UseAfterDispose(string[] args)
    {
        string dir = args[0];

        // A claim and a record writer outliving their writer and log.
        var (writer, log) = SegmentedLog.CreateClaimed("disposed", new SegmentedLogOptions { Directory = dir });
        var record = writer.BeginRecord();
        record.GetSpan(4);
        writer.Dispose();
        log.Dispose();
        ExpectDisposed(() => record.GetSpan(1));
        ExpectDisposed(() => record.GetMemory(1));
        ExpectDisposed(() => record.Advance(0));
        ExpectDisposed(() => record.Commit());
        ExpectDisposed(() => writer.Append([1]));
        ExpectDisposed(() => writer.Claim(1));
        ExpectDisposed(() => writer.BeginRecord());
        ExpectDisposed(() => writer.TryAppend([1], out _));
        ExpectDisposed(() => _ = writer.NextSequence);
        ExpectDisposed(() => log.Snapshot());
        ExpectDisposed(() => log.CreateReader());
        ExpectDisposed(() => log.GetStatus());
        ExpectDisposed(() => log.TryClaimWriter(out _));
        ExpectDisposed(() => _ = log.SegmentCapacity);
        ClaimThenDisposeThenCommit(dir);

        // A claim that outlives its writer while a new writer in the same process has published since.
        var (first, shared) = SegmentedLog.CreateClaimed("reclaimed", new SegmentedLogOptions { Directory = dir });
        using (shared)
        {
            first.Append([10]);
            var stale = first.BeginRecord(typeId: 3);
            stale.GetSpan(4).Fill(0xEE);
            stale.Advance(4);
            first.Dispose();
            if (!shared.TryClaimWriter(out var second))
            {
                throw new InvalidOperationException("could not claim the writer again");
            }

            using (second)
            {
                second.Append([20, 21]);
                ExpectDisposed(() => stale.Commit());
                using var snapshot = shared.Snapshot();
                if (snapshot.Count != 2 || !snapshot.TryGet(1, out var r) || r.TypeId != 0 || r.Payload.Length != 2 || r.Payload[0] != 20)
                {
                    throw new InvalidOperationException("a stale record writer changed a published record");
                }
            }
        }

        // Readers, snapshots and the ring's handles.
        using (var reopened = SegmentedLog.Open("reclaimed", dir))
        {
            var reader = reopened.CreateReader();
            var snapshot = reopened.Snapshot();
            reader.Dispose();
            snapshot.Dispose();
            ExpectDisposed(() => reader.TryRead(out _));
            ExpectDisposed(() => reader.Validate());
            ExpectDisposed(() => reader.Wait(TimeSpan.Zero));
            ExpectDisposed(() => reader.WaitAsync().AsTask().GetAwaiter().GetResult());
            ExpectDisposed(() => _ = reader.NextSequence);
            ExpectDisposed(() => _ = reader.LostCount);
            ExpectDisposed(() => _ = reader.HasData);
            ExpectDisposed(() => snapshot.Refresh());
            ExpectDisposed(() => snapshot.TryGet(0, out _));
            ExpectDisposed(() => snapshot.GetEnumerator());
            ExpectDisposed(() => _ = snapshot.Chunks);
            ExpectDisposed(() => _ = snapshot.Count);
        }

        var (ringWriter, ring) = ByteRing.CreateClaimed("ring", new ByteRingOptions { Capacity = 4096, Directory = dir });
        var ringReader = ring.CreateReader();
        ringWriter.GetWriteSpans(16, out _, out _);
        ringWriter.Dispose();
        ringReader.Dispose();
        ring.Dispose();
        ExpectDisposed(() => ringWriter.Write([1]));
        ExpectDisposed(() => ringWriter.Advance(1));
        ExpectDisposed(() => ringWriter.GetWriteSpans(out _, out _));
        ExpectDisposed(() => ringWriter.GetWriteMemory(out _, out _));
        ExpectDisposed(() => ringWriter.Complete());
        ExpectDisposed(() => ringWriter.WriteAsync(new byte[1]).AsTask().GetAwaiter().GetResult());
        ExpectDisposed(() => _ = ringWriter.Position);
        ExpectDisposed(() => ringReader.Read(new byte[1]));
        ExpectDisposed(() => ringReader.GetReadSpans(out _, out _));
        ExpectDisposed(() => ringReader.GetReadMemory(out _, out _));
        ExpectDisposed(() => ringReader.Advance(0));
        ExpectDisposed(() => ringReader.Seek(0));
        ExpectDisposed(() => ringReader.Validate());
        ExpectDisposed(() => _ = ringReader.Available);
        ExpectDisposed(() => _ = ringReader.IsCompleted);
        ExpectDisposed(() => _ = ringReader.Position);
        ExpectDisposed(() => ring.CreateReader());
        ExpectDisposed(() => ring.GetStatus());
        ExpectDisposed(() => _ = ring.Capacity);
        Console.WriteLine("ok");
        return 0;
    }

    private static void ClaimThenDisposeThenCommit(string dir)
    {
        var (writer, log) = SegmentedLog.CreateClaimed("claim-disposed", new SegmentedLogOptions { Directory = dir });
        var claim = writer.Claim(8);
        writer.Dispose();
        log.Dispose();
        try
        {
            claim.Commit();
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        throw new InvalidOperationException("a claim committed after its writer was disposed");
    }

    private static void ExpectDisposed(Action action)
    {
        try
        {
            action();
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        throw new InvalidOperationException($"no ObjectDisposedException from {action.Method.Name}");
    }

    [Fact]
    public void Every_log_write_path_stops_once_the_lease_is_taken_over()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("taken", new SegmentedLogOptions { Directory = _dir.Path });
        using (writer)
        using (log)
        {
            writer.Append([1]);
            var record = writer.BeginRecord();
            record.GetSpan(4).Fill(9);
            record.Advance(4);
            TakeOverLease(log.FilePath);

            Assert.Throws<SharedLogException>(() => record.Commit());
            Assert.Throws<SharedLogException>(() => writer.Append([2]));
            Assert.Throws<SharedLogException>(() => writer.TryAppend([2], out _));
            Assert.Throws<SharedLogException>(() => writer.BeginRecord());
            Assert.Throws<SharedLogException>(() => writer.Claim(1));

            using var snapshot = log.Snapshot();
            Assert.Equal(1, snapshot.Count);
        }
    }

    [Fact]
    public void A_log_claim_made_before_a_takeover_does_not_commit()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("taken-claim", new SegmentedLogOptions { Directory = _dir.Path });
        using (writer)
        using (log)
        {
            var claim = writer.Claim(4);
            claim.Span.Fill(3);
            TakeOverLease(log.FilePath);
            bool threw = false;
            try
            {
                claim.Commit();
            }
            catch (SharedLogException)
            {
                threw = true;
            }

            Assert.True(threw);
            using var snapshot = log.Snapshot();
            Assert.Equal(0, snapshot.Count);
        }
    }

    [Theory]
    [InlineData(SlowReaderPolicy.Block)]
    [InlineData(SlowReaderPolicy.Evict)]
    public void Every_ring_write_path_stops_once_the_lease_is_taken_over(SlowReaderPolicy policy)
    {
        var (writer, ring) = ByteRing.CreateClaimed("ring-taken", new ByteRingOptions { Capacity = 4096, SlowReaderPolicy = policy, Directory = _dir.Path });
        using (writer)
        using (ring)
        {
            writer.Write([1, 2, 3]);
            writer.GetWriteSpans(8, out var span, out _);
            span.Fill(5);
            TakeOverLease(ring.FilePath);

            Assert.Throws<SharedLogException>(() => writer.Advance(8));
            Assert.Throws<SharedLogException>(() => writer.Write([4]));
            Assert.Throws<SharedLogException>(() => writer.GetWriteSpans(out _, out _));
            Assert.Throws<SharedLogException>(() => writer.GetWriteMemory(out _, out _));
            Assert.Throws<SharedLogException>(() => writer.Complete());
            Assert.Equal(3, ring.WriterPosition);
            Assert.False(ring.IsCompleted);
        }
    }

    /// <summary>What a process that presumed the owner dead does: a new owner word (pid 1, which lives, next epoch).</summary>
    private static void TakeOverLease(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        var word = new byte[8];
        file.Position = FileLayout.WriterOwnerOffset + OwnerLayout.OwnerWordOffset;
        file.ReadExactly(word);
        long owner = BinaryPrimitives.ReadInt64LittleEndian(word);
        BinaryPrimitives.WriteInt64LittleEndian(word, OwnerBlock.MakeWord(OwnerBlock.EpochOf(owner) + 1, 1));
        file.Position = FileLayout.WriterOwnerOffset + OwnerLayout.OwnerWordOffset;
        file.Write(word);
    }
}
