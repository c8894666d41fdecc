using System.Globalization;
using SharedLog.Files;
using SharedLog.Platform;
using SharedLog.Tests.Infrastructure;
using SharedLog.Waiting;
using Xunit.Abstractions;

namespace SharedLog.Tests.Waiting;

/// <summary>
/// Readers that outnumber the cores with their writer: a blocking (default) reader then yields where it would spin,
/// counted from the shared reader table, so readers in other processes count.
/// </summary>
public sealed class CrowdTests : IDisposable
{
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public CrowdTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(0, 1, false)]
    [InlineData(1, 1, true)]
    [InlineData(1, 2, false)]
    [InlineData(2, 2, true)]
    [InlineData(3, 2, true)]
    [InlineData(7, 8, false)]
    [InlineData(8, 8, true)]
    public void Readers_and_their_writer_crowd_the_cores_when_they_outnumber_them(int readers, int cores, bool crowded)
        => Assert.Equal(crowded, SharedFile.Crowd(readers, cores));

    [Fact]
    public void A_crowded_blocking_idler_yields_through_its_spin_phase_then_blocks_as_before()
    {
        var strategy = IdleStrategy.CreateBlocking(spinCount: 5);
        var alone = new Idler(strategy, crowded: false);
        var crowded = new Idler(strategy, crowded: true);
        Assert.True(alone.IsSpinning);
        Assert.False(crowded.IsSpinning);
        for (int i = 0; i < 5; i++)
        {
            Assert.False(alone.ShouldBlock);
            Assert.False(crowded.ShouldBlock);
            alone.Pause();
            crowded.Pause();
            Assert.False(crowded.IsSpinning);
        }

        // The phase lasts as many pauses either way; then both block where futexes work.
        Assert.False(alone.IsSpinning);
        Assert.Equal(Futex.IsSupported, alone.ShouldBlock);
        Assert.Equal(Futex.IsSupported, crowded.ShouldBlock);
    }

    [Fact]
    public void Strategies_other_than_blocking_idle_as_chosen_when_crowded()
    {
        Assert.True(new Idler(IdleStrategy.BusySpin, crowded: true).IsSpinning);
        Assert.False(new Idler(IdleStrategy.Yielding, crowded: true).IsSpinning);
        Assert.True(new Idler(IdleStrategy.Backoff, crowded: true).IsSpinning);

        Assert.True(new ReadDelay(TimeSpan.FromMicroseconds(2), IdleStrategy.Blocking, crowded: true).Yields);
        Assert.False(new ReadDelay(TimeSpan.FromMicroseconds(2), IdleStrategy.Blocking, crowded: false).Yields);
        Assert.False(new ReadDelay(TimeSpan.FromMicroseconds(2), IdleStrategy.BusySpin, crowded: true).Yields);
        Assert.True(new ReadDelay(TimeSpan.FromMicroseconds(2), IdleStrategy.Yielding, crowded: false).Yields);
    }

    [Fact]
    public void A_reader_leaves_the_cores_to_others_only_while_a_reader_in_another_process_makes_them_too_many()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("crowd", new SegmentedLogOptions
        {
            SegmentCapacity = 64,
            RetainedCapacity = 256,
            MaxReaders = MachineCores.Online + 4,
            Directory = _dir.Path,
        });
        using (writer)
        using (log)
        {
            var shared = log.File.Shared;

            // One reader fewer than the cores, with the writer: as many threads as cores, and room for each.
            var readers = Enumerable.Range(0, MachineCores.Online - 1).Select(_ => log.CreateReader()).ToList();
            using var snapshot = log.Snapshot();
            try
            {
                Assert.False(shared.CountCrowd(), "a snapshot never waits, so it does not count");
                Assert.False(shared.YieldsForCrowd(IdleStrategy.Blocking));

                using var child = Child.Start("wait-idle-reader", _dir.Path, "crowd", "sync");
                child.WaitForLine("ready", ChildTimeout);
                Assert.True(shared.CountCrowd(), "the reader in the child process makes the readers and the writer outnumber the cores");
                Assert.True(shared.YieldsForCrowd(IdleStrategy.Blocking));
                Assert.True(shared.YieldsForCrowd(IdleStrategy.CreateBlocking(spinCount: 1000)));
                Assert.False(shared.YieldsForCrowd(IdleStrategy.BusySpin), "a busy-spin reader spins as its user chose");

                writer.Append(42L);
                child.WaitForLine("got 42", ChildTimeout);
                child.AssertSuccess(ChildTimeout);
                Assert.False(shared.CountCrowd(), "the child's reader left with it");
            }
            finally
            {
                readers.ForEach(r => r.Dispose());
            }
        }
    }

    [SkippableTheory]
    [InlineData("log", "crowd")]
    [InlineData("log", "alone")]
    [InlineData("ring", "crowd")]
    [InlineData("ring", "alone")]
    [InlineData("space", "crowd")]
    [InlineData("space", "alone")]
    [InlineData("ring-space", "crowd")]
    [InlineData("ring-space", "alone")]
    public void On_a_cpu_they_share_crowded_default_waiters_yield_to_each_other_instead_of_sleeping(string kind, string mode)
    {
        Skip.IfNot(OperatingSystem.IsLinux() && Futex.IsSupported, "CPU affinity of a child process is set here on Linux, and the default strategy sleeps on a futex");

        // Writer and reader threads of one child process confined to one CPU; the writer adds an item per turn, the
        // reader waits by the default strategy after each. A reader that spins holds the CPU through its spin, then
        // sleeps, and the writer's next item must wake it (a futex call); a crowded one yields, the writer adds the
        // item, and the reader finds it without sleeping. Measured: 0 wake-ups for 2,000 items crowded, about 1,990
        // alone (and as many crowded with the crowd rule switched off). "space" and "ring-space": the same for a writer
        // waiting for its readers to free space: 0 wake-ups crowded; alone, about 110 for 125 segment rolls of the log,
        // and one per wait of the ring's writer; with the rule off for the writer alone, as many as its waits or more.
        using var child = Child.Start("crowd-one-cpu", _dir.Path, $"one-cpu-{kind}-{mode}", kind, mode);
        child.AssertSuccess(ChildTimeout);
        string line = child.WaitForLine("wakes ", TimeSpan.FromSeconds(1));
        _output.WriteLine(line);
        string[] parts = line.Split(' ');
        long wakes = long.Parse(parts[1], CultureInfo.InvariantCulture);
        long items = long.Parse(parts[3], CultureInfo.InvariantCulture);
        Assert.Equal(mode == "crowd", bool.Parse(parts[5]));
        if (mode == "crowd")
        {
            // At most a quarter, or one (a crowded writer of the 4 KiB ring waits only a few times; with the rule off for it,
            // 10-62 waits, each with a wake-up or more).
            Assert.True(wakes * 4 <= Math.Max(items, 4), $"{line}: a crowded waiter should yield to the others on its CPU, not sleep until woken");
        }
        else if (items >= 8)
        {
            // The control: the same threads with the reader alone beside its writer spin, then sleep. (The ring's writer
            // may wait only a few times when other processes load the machine, 3-7 in five runs: too few to judge.)
            Assert.True(wakes * 4 >= items, $"{line}: a waiter that spins on the only CPU should have needed wake-ups");
        }
    }

    /// <summary>
    /// args: directory, name, log|ring, crowd|alone. Confines this process to one CPU; with "crowd" it first adds idle
    /// readers until the readers and the writer outnumber the machine's CPUs. A thread adds an item (a record, or 8
    /// bytes) per turn while this one reads 2,000 by the default strategy. Prints "wakes W items N crowded C".
    /// </summary>
    [ChildRole("crowd-one-cpu")]
    public static int CrowdOnOneCpu(string[] args)
    {
        if (!Child.ConfineToOneCpu())
        {
            return 2;
        }

        const int Items = 2000;
        int idleReaders = args[3] == "crowd" ? MachineCores.Online - 1 : 0;
        string result = args[2] switch
        {
            "log" => CrowdedLog(args[0], args[1], Items, idleReaders),
            "ring" => CrowdedRing(args[0], args[1], Items, idleReaders),
            "ring-space" => CrowdedRingWriter(args[0], args[1], Items, idleReaders + 1),
            _ => CrowdedWriter(args[0], args[1], Items, idleReaders + 1),
        };
        Console.WriteLine(result);
        return result.StartsWith("wakes ", StringComparison.Ordinal) ? 0 : 1;
    }

    /// <summary>Reads records 0 to <paramref name="items"/> - 1 (each holds its own sequence), waiting by the default strategy; null, or what went wrong.</summary>
    private static string? ReadRecords(LogReader reader, long items)
    {
        for (long next = 0; next < items;)
        {
            if (reader.TryRead(out var record))
            {
                if (record.Read<long>() != next++)
                {
                    return $"record {next - 1} held {record.Read<long>()}";
                }
            }
            else if (!reader.Wait(TimeSpan.FromSeconds(30)))
            {
                return $"timed out at record {next}";
            }
        }

        return null;
    }

    /// <summary>Reads 8-byte items 0 to <paramref name="items"/> - 1, waiting by the default strategy; null, or what went wrong.</summary>
    private static string? ReadItems(RingReader reader, long items)
    {
        var buffer = new byte[8];
        for (long next = 0; next < items;)
        {
            // Whole items only: a write of 8 bytes is published at once.
            if (reader.Read(buffer) == 8)
            {
                if (BitConverter.ToInt64(buffer) != next++)
                {
                    return $"item {next - 1} held {BitConverter.ToInt64(buffer)}";
                }
            }
            else if (!reader.Wait(TimeSpan.FromSeconds(30)))
            {
                return $"timed out at item {next}";
            }
        }

        return null;
    }

    /// <summary>The role's report: the wake-ups issued on <paramref name="signal"/> since <paramref name="wakesBefore"/>.</summary>
    private static string Result(Signal signal, long wakesBefore, long items, bool crowded)
        => string.Create(CultureInfo.InvariantCulture, $"wakes {signal.WakeCount - wakesBefore} items {items} crowded {crowded}");

    /// <summary>
    /// A writer that waits for space: a 32-record window, <paramref name="readers"/> reader threads that each read every
    /// record, all on this process's one CPU. Counts the readers' wake-ups of the writer (space signal); its items are
    /// the segments the writer rolled into, each a wait for space at most.
    /// </summary>
    private static string CrowdedWriter(string directory, string name, int items, int readers)
    {
        var (writer, log) = SegmentedLog.CreateClaimed(name, new SegmentedLogOptions
        {
            SegmentCapacity = 16,
            RetainedCapacity = 32,
            SpareSegments = 0,
            SlowReaderPolicy = SlowReaderPolicy.Block,
            SlowReaderTimeout = TimeSpan.FromSeconds(60),
            MaxReaders = MachineCores.Online + 4,
            Directory = directory,
        });
        using (log)
        {
            var cursors = Enumerable.Range(0, readers).Select(_ => log.CreateReader(ReadFrom.Oldest)).ToList();
            bool crowded = log.File.Shared.CountCrowd();
            var signal = log.File.Shared.SpaceSignal;
            var errors = new string?[readers];
            var threads = cursors.Select((reader, index) => new Thread(() => errors[index] = ReadRecords(reader, items))).ToList();

            long wakesBefore = signal.WakeCount;
            threads.ForEach(t => t.Start());
            using (writer)
            {
                for (long i = 0; i < items; i++)
                {
                    writer.Append(i);
                }
            }

            threads.ForEach(t => t.Join());
            cursors.ForEach(r => r.Dispose());
            return errors.FirstOrDefault(e => e is not null) ?? Result(signal, wakesBefore, items / 16, crowded);
        }
    }

    /// <summary>
    /// The byte ring's writer waiting for space: a 4 KiB ring, 8-byte items, <paramref name="readers"/> reader threads
    /// that each read every byte, all on this process's one CPU. Its items are the writer's waits for space.
    /// </summary>
    private static string CrowdedRingWriter(string directory, string name, int items, int readers)
    {
        var (writer, ring) = ByteRing.CreateClaimed(name, new ByteRingOptions
        {
            Capacity = 4096,
            SlowReaderPolicy = SlowReaderPolicy.Block,
            SlowReaderTimeout = TimeSpan.FromSeconds(60),
            MaxReaders = MachineCores.Online + 4,
            Directory = directory,
        });
        using (ring)
        {
            var cursors = Enumerable.Range(0, readers).Select(_ => ring.CreateReader(ReadFrom.Oldest)).ToList();
            bool crowded = ring.File.Shared.CountCrowd();
            var signal = ring.File.Shared.SpaceSignal;
            var errors = new string?[readers];
            var threads = cursors.Select((reader, index) => new Thread(() => errors[index] = ReadItems(reader, items))).ToList();

            long wakesBefore = signal.WakeCount;
            threads.ForEach(t => t.Start());
            int waits = 0;
            using (writer)
            {
                var item = new byte[8];
                for (long i = 0; i < items; i++)
                {
                    // Whole items: the ring's capacity is a multiple of 8, so a write either fits or waits.
                    BitConverter.TryWriteBytes(item, i);
                    while (writer.Write(item) == 0)
                    {
                        waits++;
                        if (!writer.WaitForSpace(TimeSpan.FromSeconds(30)))
                        {
                            return $"the writer timed out at item {i}";
                        }
                    }
                }
            }

            threads.ForEach(t => t.Join());
            cursors.ForEach(r => r.Dispose());
            return errors.FirstOrDefault(e => e is not null) ?? Result(signal, wakesBefore, waits, crowded);
        }
    }

    private static string CrowdedLog(string directory, string name, int items, int idleReaders)
    {
        var (writer, log) = SegmentedLog.CreateClaimed(name, new SegmentedLogOptions
        {
            SegmentCapacity = 4096,
            RetainedCapacity = 16384,
            MaxReaders = MachineCores.Online + 4,
            Directory = directory,
        });
        using (log)
        using (var reader = log.CreateReader(ReadFrom.Oldest))
        {
            var idle = Enumerable.Range(0, idleReaders).Select(_ => log.CreateReader(ReadFrom.Oldest)).ToList();
            bool crowded = log.File.Shared.CountCrowd();
            var signal = log.File.Shared.DataSignal;
            var appender = new Thread(() =>
            {
                using (writer)
                {
                    while (writer.NextSequence < items)
                    {
                        // One record per turn on the CPU: the reader catches up after each and waits for the next.
                        writer.Append(writer.NextSequence);
                        Thread.Yield();
                    }
                }
            });

            long wakesBefore = signal.WakeCount;
            appender.Start();
            string? error = ReadRecords(reader, items);
            appender.Join();
            idle.ForEach(r => r.Dispose());
            return error ?? Result(signal, wakesBefore, items, crowded);
        }
    }

    private static string CrowdedRing(string directory, string name, int items, int idleReaders)
    {
        var (writer, ring) = ByteRing.CreateClaimed(name, new ByteRingOptions
        {
            Capacity = 1 << 20,
            MaxReaders = MachineCores.Online + 4,
            Directory = directory,
        });
        using (ring)
        using (var reader = ring.CreateReader(ReadFrom.Oldest))
        {
            var idle = Enumerable.Range(0, idleReaders).Select(_ => ring.CreateReader(ReadFrom.Oldest)).ToList();
            bool crowded = ring.File.Shared.CountCrowd();
            var signal = ring.File.Shared.DataSignal;
            var producer = new Thread(() =>
            {
                using (writer)
                {
                    var item = new byte[8];
                    for (long i = 0; i < items; i++)
                    {
                        // One item per turn on the CPU (16 KiB in all: the ring never fills).
                        BitConverter.TryWriteBytes(item, i);
                        writer.Write(item);
                        Thread.Yield();
                    }
                }
            });

            long wakesBefore = signal.WakeCount;
            producer.Start();
            string? error = ReadItems(reader, items);
            producer.Join();
            idle.ForEach(r => r.Dispose());
            return error ?? Result(signal, wakesBefore, items, crowded);
        }
    }

    [Fact]
    public async Task Crowded_blocking_readers_of_a_ring_each_get_every_byte()
    {
        // As many readers as cores and a writer: crowded on any machine. Each reader yields, then blocks, and still
        // wakes for every write; every other one lingers (yielding) for batches.
        var (writer, ring) = ByteRing.CreateClaimed("crowd-ring", new ByteRingOptions
        {
            Capacity = 64 * 1024,
            MaxReaders = MachineCores.Online + 4,
            SlowReaderPolicy = SlowReaderPolicy.Block,
            SlowReaderTimeout = TimeSpan.FromSeconds(60),
            Directory = _dir.Path,
        });
        using (writer)
        using (ring)
        {
            var readers = Enumerable.Range(0, MachineCores.Online).Select(_ => ring.CreateReader()).ToList();
            try
            {
                Assert.True(ring.File.Shared.CountCrowd());
                const int Bytes = 1 << 20;
                var consumers = readers.Select((reader, index) => Task.Factory.StartNew(
                    () =>
                    {
                        var buffer = new byte[4096];
                        long sum = 0;
                        int total = 0;
                        while (total < Bytes)
                        {
                            int read = index % 2 == 0 ? reader.Read(buffer) : reader.Read(buffer, 1024, TimeSpan.FromMicroseconds(20));
                            if (read == 0)
                            {
                                Assert.True(reader.Wait(ChildTimeout), $"a crowded reader timed out at byte {total}");
                                continue;
                            }

                            for (int i = 0; i < read; i++)
                            {
                                sum += buffer[i];
                            }

                            total += read;
                        }

                        return sum;
                    },
                    TaskCreationOptions.LongRunning)).ToList();

                var chunk = new byte[100];
                long expected = 0;
                for (int written = 0; written < Bytes; written += chunk.Length)
                {
                    int length = Math.Min(chunk.Length, Bytes - written);
                    for (int i = 0; i < length; i++)
                    {
                        chunk[i] = (byte)(written + i);
                        expected += chunk[i];
                    }

                    var rest = chunk.AsSpan(0, length);
                    while (!rest.IsEmpty)
                    {
                        rest = rest[writer.Write(rest)..];
                        if (!rest.IsEmpty)
                        {
                            Assert.True(writer.WaitForSpace(ChildTimeout), $"the writer waited in vain for space at byte {written}");
                        }
                    }

                    // Now and then the stream pauses, so readers reach their yield and sleep phases.
                    if (written % 65_536 == 0)
                    {
                        Thread.Sleep(2);
                    }
                }

                long[] sums = await Task.WhenAll(consumers).WaitAsync(ChildTimeout);

                Assert.All(sums, sum => Assert.Equal(expected, sum));
            }
            finally
            {
                readers.ForEach(r => r.Dispose());
            }
        }
    }
}
