using System.Diagnostics;
using System.Globalization;
using SharedLog.Layout;
using SharedLog.Platform;
using SharedLog.Leases;
using SharedLog.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SharedLog.Tests.Crash;

/// <summary>
/// Readers that die holding pins, and readers that only look dead: dead ones must stop holding the writer up at once
/// (the OS can tell), and a live reader whose slot was taken must find out and never touch the slot again.
/// </summary>
[Collection(ProcessTests.Collection)]
public sealed class ReaderCrashTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public ReaderCrashTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    private SegmentedLogOptions PinnedOptions() => new()
    {
        SegmentCapacity = 4,
        RetainedCapacity = 8,
        SpareSegments = 0,
        MaxReaders = 4,
        SlowReaderPolicy = SlowReaderPolicy.Block,

        // Far longer than the bound asserted below: only reaping by pid can pass.
        SlowReaderTimeout = TimeSpan.FromSeconds(60),
        Directory = _dir.Path,
    };

    [Theory]
    [InlineData("hold-snapshot")]
    [InlineData("hold-reader")]
    public void Killed_reader_stops_holding_up_a_blocked_writer_at_once(string role)
    {
        var (writer, log) = SegmentedLog.CreateClaimed("pinned", PinnedOptions());
        using (writer)
        using (log)
        {
            for (long i = 0; i < 6; i++)
            {
                writer.Append(i);
            }

            using var child = Child.Start(role, _dir.Path, "pinned");
            Assert.Equal("pinned 0", child.WaitForLine("pinned ", TimeSpan.FromSeconds(30)));

            // The child's pin holds: the writer fills the free slots and then cannot go on without waiting.
            int appended = 0;
            while (writer.TryAppend(BitConverter.GetBytes(writer.NextSequence), out _))
            {
                Assert.True(++appended < 100, "the writer never ran into the child's pin");
            }

            long blockedAt = writer.NextSequence;
            long doneTicks = 0;
            var blocked = new Thread(() =>
            {
                writer.Append(blockedAt);
                Volatile.Write(ref doneTicks, Stopwatch.GetTimestamp());
            });
            blocked.Start();
            Thread.Sleep(300);
            Assert.Equal(0, Volatile.Read(ref doneTicks));
            Assert.Contains(log.GetStatus().Readers, r => r.ProcessId == child.Pid && r.IsAlive);

            long killed = Stopwatch.GetTimestamp();
            child.Kill();
            Assert.True(blocked.Join(TimeSpan.FromSeconds(30)), "the writer still waits 30 s after the reader was killed");
            var waited = Stopwatch.GetElapsedTime(killed, Volatile.Read(ref doneTicks));
            _output.WriteLine($"{role}: writer unblocked {waited.TotalMilliseconds:F1} ms after the kill (SlowReaderTimeout 60 s)");
            Assert.True(waited < TimeSpan.FromSeconds(5), $"the writer waited {waited} after the reader died");

            // The slot is free again and the log goes on.
            Assert.DoesNotContain(log.GetStatus().Readers, r => r.ProcessId == child.Pid);
            for (int i = 0; i < 50; i++)
            {
                writer.Append(writer.NextSequence);
            }

            using var snapshot = log.Snapshot();
            foreach (var record in snapshot)
            {
                Assert.Equal(record.Sequence, record.Read<long>());
            }
        }
    }

    [Fact]
    public void Dead_reader_pins_are_reaped_without_waiting_when_the_writer_needs_the_slot()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("reaped", PinnedOptions());
        using (writer)
        using (log)
        {
            writer.Append(0L);
            using (var child = Child.Start("hold-reader", _dir.Path, "reaped"))
            {
                child.WaitForLine("pinned ", TimeSpan.FromSeconds(30));
                child.Kill();
            }

            // Dead before the writer needed the slot: never a wait, not even a TryAppend refusal.
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < 40; i++)
            {
                Assert.True(writer.TryAppend(BitConverter.GetBytes(writer.NextSequence), out _));
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1));
            Assert.Empty(log.GetStatus().Readers);
        }
    }

    [Fact]
    public void Live_reader_whose_slot_was_reaped_reregisters_and_leaves_the_new_owner_alone()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("stolen", PinnedOptions());
        using (writer)
        using (log)
        using (var fields = new FileFields(log))
        {
            for (long i = 0; i < 6; i++)
            {
                writer.Append(i);
            }

            using var slow = log.CreateReader(ReadFrom.Oldest);
            Assert.True(slow.TryRead(out var first));
            Assert.Equal(0, first.Sequence);
            int stolenIndex = slow.SlotIndex;
            long stolenSlot = FileFields.ReaderSlotOffset(stolenIndex);

            // The writer takes the slot of a reader it cannot check (another pid namespace) whose heartbeat stalled:
            // the only way a live reader loses its slot. The heartbeat timer may beat in between, so stall it again
            // before every append.
            for (int i = 0; i < 16; i++)
            {
                bool appended = false;
                for (int attempt = 0; attempt < 100 && !appended; attempt++)
                {
                    fields.Write(stolenSlot + OwnerLayout.PidNamespaceOffset, 1L);
                    fields.Write(stolenSlot + OwnerLayout.HeartbeatOffset, ProcessIdentity.NowMs - (2 * OwnerBlock.HeartbeatTimeoutMs));
                    appended = writer.TryAppend(BitConverter.GetBytes(writer.NextSequence), out _);
                }

                Assert.True(appended, "the writer did not reap the stalled reader's slot");
            }

            Assert.Equal(0, OwnerBlock.PidOf(fields.ReadInt64(stolenSlot + OwnerLayout.OwnerWordOffset)));

            // Someone else takes the slot at once.
            using var newcomer = log.CreateReader(ReadFrom.Latest);
            Assert.Equal(stolenIndex, newcomer.SlotIndex);
            long ownerWord = fields.ReadInt64(stolenSlot + OwnerLayout.OwnerWordOffset);
            long pin = fields.ReadInt64(stolenSlot + ReaderSlotLayout.PinOffset);
            int state = fields.ReadInt32(stolenSlot + ReaderSlotLayout.StateOffset);

            // The slow reader wakes up: it finds out, reads on from a slot of its own, and counts what it missed
            // (record 0 included: it was held, never validated, and its segment was reused meanwhile).
            long received = 0;
            while (slow.TryRead(out var record))
            {
                Assert.Equal(record.Sequence, record.Read<long>());
                if (slow.Validate())
                {
                    received++;
                }
            }

            Assert.NotEqual(stolenIndex, slow.SlotIndex);
            Assert.Equal(writer.NextSequence, slow.NextSequence);
            Assert.Equal(writer.NextSequence, received + slow.LostCount);
            Assert.True(slow.LostCount > 0);

            Assert.Equal(ownerWord, fields.ReadInt64(stolenSlot + OwnerLayout.OwnerWordOffset));
            Assert.Equal(pin, fields.ReadInt64(stolenSlot + ReaderSlotLayout.PinOffset));
            Assert.Equal(state, fields.ReadInt32(stolenSlot + ReaderSlotLayout.StateOffset));

            // Both are live readers now, each in its own slot, and both follow the writer.
            writer.Append(writer.NextSequence);
            Assert.True(newcomer.TryRead(out var latest));
            Assert.Equal(writer.NextSequence - 1, latest.Sequence);
            Assert.True(slow.TryRead(out latest));
            Assert.Equal(writer.NextSequence - 1, latest.Sequence);
            Assert.Equal(2, log.GetStatus().Readers.Count);
        }
    }

    [Fact]
    public void Snapshot_whose_slot_was_reaped_reports_eviction_and_refreshes_into_a_new_slot()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("stolen-snapshot", PinnedOptions());
        using (writer)
        using (log)
        using (var fields = new FileFields(log))
        {
            for (long i = 0; i < 6; i++)
            {
                writer.Append(i);
            }

            using var snapshot = log.Snapshot();
            int stolenIndex = log.GetStatus().Readers.Single().Slot;
            long stolenSlot = FileFields.ReaderSlotOffset(stolenIndex);
            for (int i = 0; i < 8; i++)
            {
                bool appended = false;
                for (int attempt = 0; attempt < 100 && !appended; attempt++)
                {
                    fields.Write(stolenSlot + OwnerLayout.PidNamespaceOffset, 1L);
                    fields.Write(stolenSlot + OwnerLayout.HeartbeatOffset, ProcessIdentity.NowMs - (2 * OwnerBlock.HeartbeatTimeoutMs));
                    appended = writer.TryAppend(BitConverter.GetBytes(writer.NextSequence), out _);
                }

                Assert.True(appended);
            }

            using var newcomer = log.Snapshot();
            Assert.Equal(stolenIndex, log.GetStatus().Readers.Single().Slot);
            long pin = fields.ReadInt64(stolenSlot + ReaderSlotLayout.PinOffset);

            // Its pin protected nothing since the reap: that is an eviction, whether or not the data was reused yet.
            Assert.Throws<ReaderEvictedException>(() => snapshot.TryGet(snapshot.NextSequence - 1, out _));
            snapshot.Refresh();
            Assert.Equal(writer.NextSequence, snapshot.NextSequence);
            foreach (var record in snapshot)
            {
                Assert.Equal(record.Sequence, record.Read<long>());
            }

            Assert.Equal(pin, fields.ReadInt64(stolenSlot + ReaderSlotLayout.PinOffset));
            Assert.Equal(2, log.GetStatus().Readers.Count);
        }
    }

    [Fact]
    public void Writer_lease_of_an_uncheckable_owner_is_taken_over_only_after_its_heartbeat_stalls()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("namespace", PinnedOptions());
        using (writer)
        using (log)
        using (var fields = new FileFields(log))
        {
            writer.Append(0L);

            // As a writer in another pid namespace looks: its pid means nothing here, only its heartbeat does.
            fields.Write(FileLayout.WriterOwnerOffset + OwnerLayout.PidNamespaceOffset, 1L);
            fields.Write(FileLayout.WriterOwnerOffset + OwnerLayout.HeartbeatOffset, ProcessIdentity.NowMs);
            Assert.False(log.TryClaimWriter(out _));
            fields.Write(FileLayout.WriterOwnerOffset + OwnerLayout.HeartbeatOffset, ProcessIdentity.NowMs - (2 * OwnerBlock.HeartbeatTimeoutMs));
            Assert.True(log.TryClaimWriter(out var successor));
            using (successor)
            {
                Assert.Equal(1, successor.NextSequence);

                // The displaced writer finds out at its next append, before it writes a byte.
                var lost = Assert.Throws<SharedLogException>(() => writer.Append(99L));
                Assert.Contains("no longer holds the writer lease", lost.Message);
                Assert.Equal(1, successor.Append(1L));
                using var snapshot = log.Snapshot();
                Assert.Equal(2, snapshot.NextSequence);
                Assert.True(snapshot.TryGet(1, out var record));
                Assert.Equal(1, record.Read<long>());
            }
        }
    }

    [SkippableFact]
    public void Liveness_of_zombies_and_reused_pids()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "/proc is Linux-only");
        Assert.Equal(Liveness.Alive, ProcessIdentity.Check(ProcessIdentity.Pid, ProcessIdentity.StartTime, ProcessIdentity.PidNamespace));

        // The same pid with another start time: the recorded owner died and its pid was reused.
        Assert.Equal(Liveness.Dead, ProcessIdentity.Check(ProcessIdentity.Pid, ProcessIdentity.StartTime + 1, ProcessIdentity.PidNamespace));
        Assert.Equal(Liveness.Dead, ProcessIdentity.Check(FileFields.DeadPid, 0, 0));

        // A killed process nobody reaped yet: the shell execs into sleep, which never waits for the background child.
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("sleep 0.1 & echo $!; exec sleep 30");
        using var parent = Process.Start(info)!;
        try
        {
            int zombie = int.Parse(parent.StandardOutput.ReadLine()!, CultureInfo.InvariantCulture);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (!File.ReadAllText($"/proc/{zombie}/stat").Contains(") Z ", StringComparison.Ordinal))
            {
                Assert.True(DateTime.UtcNow < deadline, "the background child did not become a zombie");
                Thread.Sleep(10);
            }

            Assert.Equal(Liveness.Dead, ProcessIdentity.Check(zombie, 0, 0));
            Assert.Equal(Liveness.Alive, ProcessIdentity.Check(parent.Id, 0, 0));
        }
        finally
        {
            parent.Kill();
            parent.WaitForExit();
        }
    }

    [ChildRole("hold-snapshot")]
    public static int HoldSnapshot(string[] args)
    {
        using var log = SegmentedLog.Open(args[1], args[0]);
        using var snapshot = log.Snapshot();
        Console.WriteLine($"pinned {snapshot.FirstSequence}");
        Console.ReadLine();
        return 0;
    }

    [ChildRole("hold-reader")]
    public static int HoldReader(string[] args)
    {
        using var log = SegmentedLog.Open(args[1], args[0]);
        using var reader = log.CreateReader(ReadFrom.Oldest);
        Console.WriteLine($"pinned {reader.NextSequence}");
        Console.ReadLine();
        return 0;
    }
}
