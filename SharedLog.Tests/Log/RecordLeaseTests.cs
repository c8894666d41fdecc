using System.Diagnostics;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Log;

/// <summary>Record leases keep their segment alive after the snapshot or reader that produced them moved on.</summary>
public sealed class RecordLeaseTests : IDisposable
{
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>One retained segment of 4 records and 20 spare slots: the writer laps the window 20 times before it needs slot 0 again.</summary>
    private SegmentedLogOptions Options(SlowReaderPolicy policy = SlowReaderPolicy.Block) => new()
    {
        SegmentCapacity = 4,
        RetainedCapacity = 4,
        SpareSegments = 20,
        SlowReaderPolicy = policy,
        SlowReaderTimeout = TimeSpan.FromMinutes(5),
        Directory = _dir.Path,
    };

    private static byte[] PayloadOf(long sequence) => BitConverter.GetBytes(sequence * 7919);

    private static void AppendUpTo(LogWriter writer, long next)
    {
        while (writer.NextSequence < next)
        {
            writer.Append(PayloadOf(writer.NextSequence), typeId: 5);
        }
    }

    [Fact]
    public void Leases_outlive_their_snapshot_while_the_writer_laps_the_window_and_release_the_segment_when_dropped()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("leases", Options());
        using (writer)
        using (log)
        {
            AppendUpTo(writer, 10);
            RecordLease lease;
            RecordLease sameSegment;
            using (var snapshot = log.Snapshot())
            {
                // The window is [4, 10): segment 1 holds 4..7.
                lease = snapshot.Lease(5);
                sameSegment = snapshot.Lease(6);
                Assert.Throws<ArgumentOutOfRangeException>(() => snapshot.Lease(10));
            }

            // Two leases into one segment share one reader slot, shown as a lease slot pinning that segment.
            var leaseSlot = Assert.Single(log.GetStatus().Readers);
            Assert.True(leaseSlot.IsLease);
            Assert.Equal(1, leaseSlot.Pin);

            // The writer laps the one-segment window many times; the leased segment (generation 1) stays intact.
            AppendUpTo(writer, 4 * 20);
            Assert.True(log.GetStatus().FirstSequence > 60);
            Assert.Equal(5, lease.Sequence);
            Assert.Equal(5, lease.TypeId);
            Assert.Equal(PayloadOf(5), lease.Payload.ToArray());
            Assert.Equal(PayloadOf(5), lease.Memory.ToArray());
            Assert.True(lease.IsIntact);

            // Slot 1 is next to be reused (22 slots): the pin holds the writer back (TryAppend gives up instead of waiting).
            AppendUpTo(writer, 4 * 23);
            Assert.False(writer.TryAppend(PayloadOf(writer.NextSequence), 5, out _));

            var clone = lease.Clone();
            lease.Dispose();
            sameSegment.Dispose();
            Assert.Throws<ObjectDisposedException>(() => lease.Payload.Length);
            Assert.Equal(PayloadOf(5), clone.Payload.ToArray());
            Assert.False(writer.TryAppend(PayloadOf(writer.NextSequence), 5, out _));

            clone.Dispose();
            Assert.Empty(log.GetStatus().Readers);
            Assert.True(writer.TryAppend(PayloadOf(writer.NextSequence), 5, out _));
            AppendUpTo(writer, 4 * 40);
        }
    }

    [Fact]
    public void A_reader_leases_the_record_it_holds()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("reader-lease", Options());
        using (writer)
        using (log)
        {
            AppendUpTo(writer, 3);
            RecordLease lease;
            using (var reader = log.CreateReader())
            {
                Assert.Throws<InvalidOperationException>(() => reader.Lease());
                Assert.True(reader.TryRead(out _));
                Assert.True(reader.TryRead(out var second));
                lease = reader.Lease();
                Assert.Equal(second.Sequence, lease.Sequence);
                Assert.True(reader.TryRead(out _));
            }

            using (lease)
            {
                AppendUpTo(writer, 4 * 20);
                Assert.Equal(1, lease.Sequence);
                Assert.Equal(PayloadOf(1), lease.Payload.ToArray());
            }
        }
    }

    [Fact]
    public void Under_evict_a_lapped_lease_says_so_instead_of_handing_out_other_bytes()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("evicted-lease", Options(SlowReaderPolicy.Evict));
        using (writer)
        using (log)
        {
            AppendUpTo(writer, 4);
            using var snapshot = log.Snapshot();
            using var lease = snapshot.Lease(1);
            snapshot.Dispose();
            AppendUpTo(writer, 4 * 30);
            Assert.False(lease.IsIntact);
            Assert.Throws<ReaderEvictedException>(() => lease.Payload.Length);
        }
    }

    [Fact]
    public void A_process_killed_holding_leases_releases_them()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("killed-lease", Options());
        using (writer)
        using (log)
        {
            AppendUpTo(writer, 4);
            using var child = Child.Start("lease-and-hang", _dir.Path, "killed-lease");
            child.WaitForLine("leased", ChildTimeout);
            AppendUpTo(writer, 4 * 22);
            Assert.False(writer.TryAppend(PayloadOf(writer.NextSequence), 5, out _));

            child.Kill();
            var clock = Stopwatch.StartNew();

            // The blocked writer reaps the dead process's slot (it checks every 100 ms while it waits).
            AppendUpTo(writer, 4 * 24);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
            Assert.DoesNotContain(log.GetStatus().Readers, r => r.IsEvicted);
        }
    }

    [ChildRole("lease-and-hang")]
    public static int LeaseAndHang(string[] args)
    {
        using var log = SegmentedLog.Open(args[1], args[0]);
        using var snapshot = log.Snapshot();
        var first = snapshot.Lease(0);
        var second = snapshot.Lease(1);
        snapshot.Dispose();
        Console.WriteLine($"leased {first.Sequence} {second.Sequence}");
        Console.ReadLine();
        return 0;
    }
}
