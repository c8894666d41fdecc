using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Log;

/// <summary>
/// The log as users meet it: streams that end, writers that die, files replaced under a reader, readers that resume at
/// a sequence, serializers writing in place, options that contradict a file, readers that start before the writer.
/// </summary>
public sealed class LifecycleTests : IDisposable
{
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private SegmentedLogOptions Options(int segmentCapacity = 64, long retained = 1024, bool deleteOnDispose = false, UnixFileMode? permissions = null) => new()
    {
        SegmentCapacity = segmentCapacity,
        RetainedCapacity = retained,
        Directory = _dir.Path,
        DeleteOnDispose = deleteOnDispose,
        Permissions = permissions ?? (UnixFileMode.UserRead | UnixFileMode.UserWrite),
    };

    [Fact]
    public async Task Complete_ends_the_stream_after_readers_drain_and_is_idempotent()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("complete", Options());
        using (writer)
        using (log)
        using (var reader = log.CreateReader())
        {
            for (int i = 0; i < 100; i++)
            {
                writer.Append(BitConverter.GetBytes(i));
            }

            writer.Complete();
            writer.Complete();
            Assert.True(writer.IsCompleted);
            Assert.True(log.IsCompleted);
            Assert.Throws<InvalidOperationException>(() => writer.Append([1]));
            Assert.Throws<InvalidOperationException>(() => writer.Claim(1));
            Assert.Throws<InvalidOperationException>(() => writer.BeginRecord());

            Assert.False(reader.IsCompleted);
            int read = 0;
            while (reader.TryRead(out var record))
            {
                Assert.Equal(read++, BinaryPrimitives.ReadInt32LittleEndian(record.Payload));
            }

            Assert.Equal(100, read);
            Assert.True(reader.IsCompleted);
            Assert.False(reader.Wait(TimeSpan.FromSeconds(10)));
            Assert.False(await reader.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.False(await reader.WaitAsync());
        }
    }

    [Fact]
    public async Task A_completed_log_stays_completed_for_the_next_writer_until_it_reopens_it()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("reopen", Options());
        using (log)
        {
            writer.Append([1]);
            writer.Complete();
            writer.Dispose();

            Assert.True(log.TryClaimWriter(out var next));
            using (next)
            using (var reader = log.CreateReader())
            {
                Assert.True(next.IsCompleted);
                Assert.Throws<InvalidOperationException>(() => next.Append([2]));
                Assert.True(reader.TryRead(out _));
                Assert.False(await reader.WaitAsync(TimeSpan.FromSeconds(5)));

                next.Reopen();
                Assert.False(log.IsCompleted);
                var waiting = reader.WaitAsync(TimeSpan.FromSeconds(30)).AsTask();
                next.Append([3]);
                Assert.True(await waiting);
                Assert.True(reader.TryRead(out var record));
                Assert.Equal(1, record.Sequence);
                Assert.Equal(3, record.Payload[0]);
            }
        }
    }

    [Fact]
    public void Reader_process_ends_cleanly_when_the_writer_completes()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("ends", Options());
        using (writer)
        using (log)
        {
            using var child = Child.Start("lifecycle-read-all", _dir.Path, "ends");
            child.WaitForLine("attached", ChildTimeout);
            for (int i = 0; i < 5000; i++)
            {
                writer.Append(BitConverter.GetBytes(i), typeId: 7);
            }

            writer.Complete();
            child.AssertSuccess(ChildTimeout);
            Assert.Contains("ended 5000 records, last 4999, lost 0", child.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Reader_process_is_told_the_writer_died_after_draining_every_committed_record_and_carries_on_with_a_new_writer()
    {
        SegmentedLog.Create("died", Options(retained: 8192)).Dispose();
        using var writerChild = Child.Start("lifecycle-append-then-hang", _dir.Path, "died", "3000");
        writerChild.WaitForLine("appended", ChildTimeout);
        using var reader = Child.Start("lifecycle-read-all", _dir.Path, "died");
        reader.WaitForLine("attached", ChildTimeout);

        var killed = Stopwatch.StartNew();
        writerChild.Kill();
        string died = reader.WaitForLine("writer died", ChildTimeout);
        var noticed = killed.Elapsed;
        Assert.Contains("after 3000 records", died, StringComparison.Ordinal);
        Assert.True(noticed < TimeSpan.FromSeconds(20), $"noticed after {noticed}");

        // A new writer takes over: the reader that kept its handle carries on to the end of the stream.
        using (var log = SegmentedLog.Open("died", _dir.Path))
        {
            Assert.True(log.TryClaimWriter(out var writer));
            using (writer)
            {
                for (int i = 3000; i < 3100; i++)
                {
                    writer.Append(BitConverter.GetBytes(i), typeId: 7);
                }

                writer.Complete();
            }
        }

        reader.AssertSuccess(ChildTimeout);
        Assert.Contains("ended 3100 records, last 3099, lost 0", reader.Output, StringComparison.Ordinal);
    }

    [ChildRole("lifecycle-append-then-hang")]
    public static int AppendThenHang(string[] args)
    {
        using var log = SegmentedLog.Open(args[1], args[0]);
        if (!log.TryClaimWriter(out var writer))
        {
            return 4;
        }

        int count = int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture);
        for (int i = 0; i < count; i++)
        {
            writer.Append(BitConverter.GetBytes(i), typeId: 7);
        }

        Console.WriteLine("appended");
        Console.ReadLine();
        return 0;
    }

    /// <summary>Reads everything with ReadAllAsync, checking order and content; reports a dead writer and carries on.</summary>
    [ChildRole("lifecycle-read-all")]
    public static int ReadAll(string[] args)
    {
        using var log = SegmentedLog.Open(args[1], args[0], TimeSpan.FromSeconds(30));
        using var reader = log.CreateReader(ReadFrom.Oldest);
        Console.WriteLine("attached");
        long count = 0;
        long last = -1;
        while (true)
        {
            try
            {
                foreach (var record in ReadAllSync(reader))
                {
                    if (record.Sequence != last + 1 || record.TypeId != 7 || BinaryPrimitives.ReadInt32LittleEndian(record.Payload.Span) != record.Sequence)
                    {
                        Console.WriteLine($"bad record {record.Sequence} after {last}");
                        return 5;
                    }

                    last = record.Sequence;
                    count++;
                }

                Console.WriteLine($"ended {count} records, last {last}, lost {reader.LostCount}");
                return reader.IsCompleted ? 0 : 6;
            }
            catch (WriterDiedException e)
            {
                Console.WriteLine($"writer died (pid {e.WriterProcessId}) after {count} records");
            }
        }
    }

    private static IEnumerable<OwnedLogRecord> ReadAllSync(LogReader reader)
    {
        var records = reader.ReadAllAsync().GetAsyncEnumerator();
        try
        {
            while (records.MoveNextAsync().AsTask().GetAwaiter().GetResult())
            {
                yield return records.Current;
            }
        }
        finally
        {
            records.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reader_process_is_told_its_file_was_deleted_or_replaced(bool recreate)
    {
        var (writer, log) = SegmentedLog.CreateClaimed("replaced", Options());
        using (writer)
        using (log)
        {
            writer.Append([1, 2, 3, 4], typeId: 7);
            using var child = Child.Start("lifecycle-wait-for-end", _dir.Path, "replaced");
            child.WaitForLine("waiting", ChildTimeout);
            Assert.True(SegmentedLog.Delete("replaced", _dir.Path));
            if (recreate)
            {
                SegmentedLog.Create("replaced", Options()).Dispose();
            }

            child.AssertSuccess(ChildTimeout);
            Assert.Contains(recreate ? "replaced: deleted False" : "replaced: deleted True", child.Output, StringComparison.Ordinal);
            Assert.Contains("after 1 records", child.Output, StringComparison.Ordinal);
        }
    }

    [ChildRole("lifecycle-wait-for-end")]
    public static int WaitForEnd(string[] args)
    {
        using var log = SegmentedLog.Open(args[1], args[0]);
        using var reader = log.CreateReader();
        int count = 0;
        while (reader.TryRead(out _))
        {
            count++;
        }

        Console.WriteLine("waiting");
        try
        {
            reader.WaitAsync().AsTask().GetAwaiter().GetResult();
            Console.WriteLine("wait ended without an error");
            return 4;
        }
        catch (FileReplacedException e)
        {
            Console.WriteLine($"replaced: deleted {e.WasDeleted} after {count} records: {e.Message}");
            return 0;
        }
    }

    [Fact]
    public void Reader_resumes_at_a_retained_sequence_or_at_the_oldest_with_the_gap_counted_lost()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("resume", Options(segmentCapacity: 10, retained: 20));
        using (writer)
        using (log)
        {
            for (int i = 0; i < 100; i++)
            {
                writer.Append(BitConverter.GetBytes(i));
            }

            var status = log.GetStatus();
            long oldest = status.FirstSequence;
            Assert.True(oldest > 50, $"oldest {oldest}");

            using (var retained = log.CreateReader(95L))
            {
                Assert.Equal(95, retained.NextSequence);
                Assert.True(retained.TryRead(out var record));
                Assert.Equal(95, record.Sequence);
                Assert.Equal(0, retained.LostCount);
            }

            using (var gone = log.CreateReader(10L))
            {
                Assert.True(gone.TryRead(out var record));
                Assert.Equal(oldest, record.Sequence);
                Assert.Equal(oldest - 10, gone.LostCount);
            }

            using (var next = log.CreateReader(100L))
            {
                Assert.False(next.TryRead(out _));
                writer.Append(BitConverter.GetBytes(100));
                Assert.True(next.TryRead(out var record));
                Assert.Equal(100, record.Sequence);
            }

            Assert.Throws<ArgumentOutOfRangeException>(() => log.CreateReader(102L));
            Assert.Throws<ArgumentOutOfRangeException>(() => log.CreateReader(-1L));
        }
    }

    [Fact]
    public void Status_shows_each_readers_position_and_lag_and_no_reader_ahead_of_the_head()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("status", Options(segmentCapacity: 16, retained: 64));
        using (writer)
        using (log)
        using (var behind = log.CreateReader())
        using (var snapshot = log.Snapshot())
        {
            for (int i = 0; i < 40; i++)
            {
                writer.Append([1]);
            }

            using var caughtUp = log.CreateReader();
            while (caughtUp.TryRead(out _))
            {
            }

            var status = log.GetStatus();
            Assert.Equal(40, status.NextSequence);
            Assert.False(status.IsCompleted);
            Assert.Equal(status.HeadGeneration - status.OldestGeneration + 1, status.Segments.Count);
            Assert.Equal(40, status.Segments.Sum(s => s.Count));
            Assert.True(status.Segments[^1].IsHead);
            var rows = status.Readers.ToDictionary(r => r.Slot);
            Assert.Equal(40, rows[caughtUp.SlotIndex].Position);
            Assert.Equal(0, rows[caughtUp.SlotIndex].Lag);
            Assert.Equal(0, rows[behind.SlotIndex].Position);
            Assert.Equal(40, rows[behind.SlotIndex].Lag);
            Assert.Contains(status.Readers, r => r.IsSnapshot && r.Position == 0);

            // Under a busy writer every reader stays at or behind the head in every status.
            using var stop = new CancellationTokenSource();
            var appender = BackgroundThread.Start(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    writer.Append([2]);
                }
            });
            var follower = BackgroundThread.Start(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    caughtUp.TryRead(out _);
                }
            });
            try
            {
                for (int i = 0; i < 2000; i++)
                {
                    var s = log.GetStatus();
                    Assert.All(s.Readers, r => Assert.True(r.Position <= s.NextSequence && r.Lag >= 0, $"reader at {r.Position}, head at {s.NextSequence}"));
                }
            }
            finally
            {
                stop.Cancel();
                appender.Join(TimeSpan.FromSeconds(30));
                follower.Join(TimeSpan.FromSeconds(30));
            }
        }
    }

    [Fact]
    public void Serializers_write_records_in_place_and_another_process_reads_them()
    {
        SegmentedLog.Create("serialized", Options(segmentCapacity: 64, retained: 1024)).Dispose();
        using var child = Child.Start("lifecycle-serialize", _dir.Path, "serialized");
        child.AssertSuccess(ChildTimeout);

        using var log = SegmentedLog.Open("serialized", _dir.Path);
        using var snapshot = log.Snapshot();
        int json = 0;
        int protobuf = 0;
        foreach (var record in snapshot)
        {
            if (record.TypeId == 1)
            {
                using var document = JsonDocument.Parse(record.Payload.ToArray());
                Assert.Equal(record.Sequence / 2, document.RootElement.GetProperty("n").GetInt64());
                Assert.Equal(new string('x', (int)(record.Sequence % 300)), document.RootElement.GetProperty("text").GetString());
                json++;
            }
            else
            {
                Assert.Equal(2, record.TypeId);
                var value = StringValue.Parser.ParseFrom(record.Payload);
                Assert.Equal($"protobuf {record.Sequence / 2}", value.Value);
                protobuf++;
            }
        }

        Assert.Equal(200, json);
        Assert.Equal(200, protobuf);
    }

    [ChildRole("lifecycle-serialize")]
    public static int Serialize(string[] args)
    {
        using var log = SegmentedLog.Open(args[1], args[0]);
        if (!log.TryClaimWriter(out var writer))
        {
            return 4;
        }

        using (writer)
        {
            for (int i = 0; i < 200; i++)
            {
                long sequence = writer.NextSequence;
                var record = writer.BeginRecord(typeId: 1);
                using (var json = new Utf8JsonWriter(record))
                {
                    json.WriteStartObject();
                    json.WriteNumber("n", i);
                    json.WriteString("text", new string('x', (int)(sequence % 300)));
                    json.WriteEndObject();
                }

                record.Commit();
                var proto = writer.BeginRecord(typeId: 2);
                Google.Protobuf.MessageExtensions.WriteTo(new StringValue { Value = $"protobuf {i}" }, (System.Buffers.IBufferWriter<byte>)proto);
                proto.Commit();
            }
        }

        return 0;
    }

    [Fact]
    public void Memory_from_the_record_writer_is_the_segment_itself()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("memory", Options());
        using (writer)
        using (log)
        {
            var record = writer.BeginRecord(typeId: 3);
            var memory = record.GetMemory(5);
            Assert.True(memory.Length >= 5);
            "hello"u8.CopyTo(memory.Span);
            record.Advance(5);
            record.Commit();
            Assert.Throws<InvalidOperationException>(() => record.GetMemory(1));
            using var snapshot = log.Snapshot();
            Assert.True(snapshot.TryGet(0, out var r));
            Assert.Equal("hello"u8.ToArray(), r.Payload.ToArray());
        }
    }

    [Fact]
    public void Reading_a_record_as_a_type_of_another_size_names_both_sizes()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("typed", Options());
        using (writer)
        using (log)
        using (var reader = log.CreateReader())
        {
            writer.Append(12345L, typeId: 4);
            Assert.True(reader.TryRead(out var record));
            Assert.Equal(12345L, record.Read<long>());
            string message = Assert.Throws<InvalidOperationException>(() =>
            {
                Assert.True(log.Snapshot().TryGet(0, out var r));
                r.Read<Guid>();
            }).Message;
            Assert.Contains("8-byte payload", message, StringComparison.Ordinal);
            Assert.Contains("Guid is 16 bytes", message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void OpenOrCreate_with_options_that_contradict_the_file_names_the_field()
    {
        using (SegmentedLog.OpenOrCreate("mismatch", Options(segmentCapacity: 64)))
        {
            var e = Assert.Throws<ArgumentException>(() => SegmentedLog.OpenOrCreate("mismatch", Options(segmentCapacity: 4096, retained: 8192)));
            Assert.Contains("SegmentCapacity 64", e.Message, StringComparison.Ordinal);
            Assert.Contains("ask for 4096", e.Message, StringComparison.Ordinal);
            using var same = SegmentedLog.OpenOrCreate("mismatch", Options(segmentCapacity: 64));
            Assert.Equal(64, same.SegmentCapacity);
            using var any = SegmentedLog.Open("mismatch", _dir.Path);
            Assert.Equal(64, any.SegmentCapacity);
        }

        var ring = ByteRing.OpenOrCreate("ring-mismatch", new ByteRingOptions { Capacity = 4096, Directory = _dir.Path });
        using (ring)
        {
            var e = Assert.Throws<ArgumentException>(() => ByteRing.OpenOrCreate("ring-mismatch", new ByteRingOptions { Capacity = 8192, Directory = _dir.Path }));
            Assert.Contains("Capacity 4096", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Reader_process_started_before_the_writer_waits_for_the_file()
    {
        using var child = Child.Start("lifecycle-read-all", _dir.Path, "late");
        Thread.Sleep(300);
        Assert.False(child.HasExited);
        var (writer, log) = SegmentedLog.CreateClaimed("late", Options());
        using (writer)
        using (log)
        {
            child.WaitForLine("attached", ChildTimeout);
            for (int i = 0; i < 10; i++)
            {
                writer.Append(BitConverter.GetBytes(i), typeId: 7);
            }

            writer.Complete();
            child.AssertSuccess(ChildTimeout);
            Assert.Contains("ended 10 records", child.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Waiting_open_times_out_and_cancels()
    {
        var started = Stopwatch.StartNew();
        var e = Assert.Throws<SharedLogException>(() => SegmentedLog.Open("never", _dir.Path, TimeSpan.FromMilliseconds(200)));
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(190));
        Assert.Contains("did not appear", e.Message, StringComparison.Ordinal);

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        Assert.ThrowsAny<OperationCanceledException>(() => SegmentedLog.Open("never", _dir.Path, Timeout.InfiniteTimeSpan, cancel.Token));
    }

    [Fact]
    public void A_log_created_to_delete_on_dispose_is_gone_after_its_creator_disposes_it()
    {
        var log = SegmentedLog.Create("temporary", Options(deleteOnDispose: true));
        using (var other = SegmentedLog.Open("temporary", _dir.Path))
        {
            other.Dispose();
            Assert.True(File.Exists(log.FilePath));
        }

        log.Dispose();
        Assert.False(File.Exists(Path.Combine(_dir.Path, "temporary")));
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Permissions_are_applied_exactly_and_never_world_writable()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix permissions");
        var groupShared = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
        using (var log = SegmentedLog.Create("group", Options(permissions: groupShared)))
        {
            Assert.Equal(groupShared, File.GetUnixFileMode(log.FilePath));
        }

        using (var log = SegmentedLog.Create("private", Options()))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log.FilePath));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => SegmentedLog.Create("world", Options(permissions: groupShared | UnixFileMode.OtherWrite)));
        Assert.Throws<ArgumentOutOfRangeException>(() => SegmentedLog.Create("noowner", Options(permissions: UnixFileMode.UserRead)));
        Assert.False(File.Exists(Path.Combine(_dir.Path, "world")));
    }

    [Fact]
    public void A_read_only_open_inspects_without_writing_and_refuses_what_would_write()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("readonly", Options());
        using (writer)
        using (log)
        using (var reader = log.CreateReader())
        {
            writer.Append([1, 2, 3]);
            using (var inspect = SegmentedLog.OpenReadOnly("readonly", _dir.Path))
            {
                var status = inspect.GetStatus();
                Assert.Equal(1, status.NextSequence);
                Assert.Equal(Environment.ProcessId, status.WriterProcessId);
                Assert.Single(status.Readers);
                Assert.Equal(64, inspect.SegmentCapacity);
                Assert.False(inspect.IsCompleted);
                Assert.Throws<InvalidOperationException>(() => inspect.CreateReader());
                Assert.Throws<InvalidOperationException>(() => inspect.CreateReader(0L));
                Assert.Throws<InvalidOperationException>(() => inspect.Snapshot());
                Assert.Throws<InvalidOperationException>(() => inspect.TryClaimWriter(out _));
            }
        }

        // Byte for byte: inspecting changes nothing in the file (with no live owner, no heartbeat moves meanwhile).
        string path = Path.Combine(_dir.Path, "readonly");
        byte[] before = File.ReadAllBytes(path);
        using (var inspect = SegmentedLog.OpenReadOnly("readonly", _dir.Path))
        {
            Assert.Equal(1, inspect.GetStatus().NextSequence);
        }

        Assert.Equal(before, File.ReadAllBytes(path));

        var (ringWriter, ring) = ByteRing.CreateClaimed("readonly-ring", new ByteRingOptions { Capacity = 4096, Directory = _dir.Path });
        using (ringWriter)
        using (ring)
        using (var inspect = ByteRing.OpenReadOnly("readonly-ring", _dir.Path))
        {
            ringWriter.Write([1, 2, 3]);
            Assert.Equal(3, inspect.GetStatus().WriterPosition);
            Assert.Throws<InvalidOperationException>(() => inspect.CreateReader());
            Assert.Throws<InvalidOperationException>(() => inspect.TryClaimWriter(out _));
        }
    }
}
