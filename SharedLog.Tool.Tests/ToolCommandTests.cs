using System.Text;
using System.Text.Json;

namespace SharedLog.Tool.Tests;

/// <summary>The <c>sharedlog</c> tool, run as a real child process against files this test process creates.</summary>
public sealed class ToolCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void List_shows_a_log_and_a_ring_with_their_writer()
    {
        var (logWriter, log) = SegmentedLog.CreateClaimed("prices", new SegmentedLogOptions { Directory = _dir.Path });
        var (ringWriter, ring) = ByteRing.CreateClaimed("stdout-capture", new ByteRingOptions { Directory = _dir.Path });
        File.WriteAllText(Path.Combine(_dir.Path, "not-ours.txt"), "hello");
        using (log)
        using (logWriter)
        using (ring)
        using (ringWriter)
        {
            using var table = ToolProcess.Run("list", "--dir", _dir.Path);
            Assert.Equal(0, table.ExitCode);
            string[] lines = table.Output.Split('\n');
            Assert.Contains(lines, l => l.Contains("prices", StringComparison.Ordinal) && l.Contains(" log ", StringComparison.Ordinal) && l.Contains($"pid {Environment.ProcessId} (alive)", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.Contains("stdout-capture", StringComparison.Ordinal) && l.Contains(" ring ", StringComparison.Ordinal));
            Assert.DoesNotContain("not-ours", table.Output, StringComparison.Ordinal);

            using var json = ToolProcess.Run("list", "--dir", _dir.Path, "--json");
            Assert.Equal(0, json.ExitCode);
            var entries = JsonDocument.Parse(json.Output).RootElement.EnumerateArray()
                .ToDictionary(e => e.GetProperty("name").GetString()!, e => e);
            Assert.Equal(["prices", "stdout-capture"], entries.Keys.Order(StringComparer.Ordinal));
            Assert.Equal("log", entries["prices"].GetProperty("kind").GetString());
            Assert.Equal("ring", entries["stdout-capture"].GetProperty("kind").GetString());
            Assert.Equal(Environment.ProcessId, entries["stdout-capture"].GetProperty("writerPid").GetInt32());
            Assert.True(entries["stdout-capture"].GetProperty("writerAlive").GetBoolean());
        }
    }

    [Fact]
    public void Inspect_json_shows_the_writer_pid_the_window_and_a_reader()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("ticks", new SegmentedLogOptions { Directory = _dir.Path, SegmentCapacity = 16, RetainedCapacity = 64 });
        using (log)
        using (writer)
        {
            for (int i = 0; i < 40; i++)
            {
                writer.Append("tick"u8);
            }

            using var reader = log.CreateReader(ReadFrom.Oldest);
            using var tool = ToolProcess.Run("inspect", "ticks", "--dir", _dir.Path, "--json");

            Assert.Equal(0, tool.ExitCode);
            var doc = JsonDocument.Parse(tool.Output).RootElement;
            Assert.Equal("log", doc.GetProperty("kind").GetString());
            Assert.Equal(Environment.ProcessId, doc.GetProperty("writer").GetProperty("pid").GetInt32());
            Assert.True(doc.GetProperty("writer").GetProperty("alive").GetBoolean());
            Assert.Equal(40, doc.GetProperty("log").GetProperty("nextSequence").GetInt64());
            Assert.Equal(16, doc.GetProperty("log").GetProperty("segmentCapacity").GetInt32());
            Assert.Equal(3, doc.GetProperty("log").GetProperty("segments").GetArrayLength());
            var readers = doc.GetProperty("readers").EnumerateArray().ToList();
            var only = Assert.Single(readers);
            Assert.Equal(Environment.ProcessId, only.GetProperty("pid").GetInt32());
            Assert.Equal("reader", only.GetProperty("kind").GetString());
            Assert.True(only.GetProperty("alive").GetBoolean());
        }
    }

    [Fact]
    public void Inspect_describes_an_unbounded_log_by_its_extents()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("history", new SegmentedLogOptions
        {
            SegmentCapacity = 4,
            Retention = LogRetention.Unbounded,
            MaxBytes = 64L << 20,
            Directory = _dir.Path,
        });
        using (log)
        using (writer)
        {
            for (int i = 0; i < 40; i++)
            {
                writer.Append([(byte)i]);
            }

            using var tool = ToolProcess.Run("inspect", "history", "--dir", _dir.Path, "--json");

            Assert.Equal(0, tool.ExitCode);
            var report = JsonDocument.Parse(tool.Output).RootElement.GetProperty("log");
            Assert.Equal("Unbounded", report.GetProperty("retention").GetString());
            Assert.Equal(log.GetStatus().ExtentCount, report.GetProperty("extentCount").GetInt64());
            var segments = report.GetProperty("segments").EnumerateArray().ToList();
            Assert.Equal(10, segments.Count);

            // Every segment keeps its own place: slot = generation.
            Assert.All(segments, s => Assert.Equal(s.GetProperty("generation").GetInt64(), s.GetProperty("slot").GetInt64()));

            using var text = ToolProcess.Run("inspect", "history", "--dir", _dir.Path);
            Assert.Contains("unbounded retention", text.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Inspect_takes_no_reader_slot_even_while_watching()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("watched", new SegmentedLogOptions { Directory = _dir.Path });
        using (log)
        using (writer)
        {
            using var reader = log.CreateReader(ReadFrom.Latest);
            var before = log.GetStatus().Readers;

            using var once = ToolProcess.Run("inspect", "watched", "--dir", _dir.Path);
            using var watch = ToolProcess.Run("inspect", "watched", "--dir", _dir.Path, "--watch", "--json", "--count", "3", "--interval", "0.1");

            Assert.Equal(0, once.ExitCode);
            Assert.Equal(0, watch.ExitCode);
            Assert.Equal(before, log.GetStatus().Readers);
            string[] lines = watch.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            foreach (string line in lines)
            {
                // Were inspect to take a snapshot or reader to look, its own slot would show in the table it reads.
                var readers = JsonDocument.Parse(line).RootElement.GetProperty("readers").EnumerateArray().ToList();
                Assert.Equal([Environment.ProcessId], readers.Select(r => r.GetProperty("pid").GetInt32()));
            }

            Assert.True(JsonDocument.Parse(lines[^1]).RootElement.TryGetProperty("rates", out var rates) && rates.ValueKind == JsonValueKind.Object);
        }
    }

    [Fact]
    public void Inspect_works_on_a_log_whose_writer_was_killed()
    {
        using var child = ToolProcess.StartSelf("writer", _dir.Path, "orphan", "5");
        Assert.True(child.WaitForOutput("ready", TimeSpan.FromSeconds(30)), child.Error);
        int pid = child.Pid;
        child.Kill();

        using var tool = ToolProcess.Run("inspect", "orphan", "--dir", _dir.Path, "--json");

        Assert.Equal(0, tool.ExitCode);
        var writerReport = JsonDocument.Parse(tool.Output).RootElement.GetProperty("writer");
        Assert.Equal(pid, writerReport.GetProperty("pid").GetInt32());
        Assert.False(writerReport.GetProperty("alive").GetBoolean());
        using var table = ToolProcess.Run("inspect", "orphan", "--dir", _dir.Path);
        Assert.Contains($"pid {pid} (dead)", table.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Tail_with_count_prints_records_appended_while_it_follows()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("feed", new SegmentedLogOptions { Directory = _dir.Path });
        using (log)
        using (writer)
        {
            writer.Append("one"u8, typeId: 3);
            using var tail = ToolProcess.Start("tail", "feed", "--dir", _dir.Path, "--from", "oldest", "--count", "3");
            Thread.Sleep(300);
            writer.Append("two"u8, typeId: 4);
            writer.Append([0x00, 0xff], typeId: 5);
            writer.Append("not printed"u8);

            Assert.True(tail.WaitForExit(TimeSpan.FromSeconds(30)), "tail did not stop after --count records");
            Assert.Equal(0, tail.ExitCode);
            Assert.Equal(["0\t3\t3\t\"one\"", "1\t4\t3\t\"two\"", "2\t5\t2\t0x00ff"], tail.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
    }

    [Fact]
    public void Inspect_shows_a_logs_segments_completion_and_each_readers_position_and_lag()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("lagging", new SegmentedLogOptions { Directory = _dir.Path, SegmentCapacity = 16, RetainedCapacity = 64 });
        using (log)
        using (writer)
        {
            for (int i = 0; i < 40; i++)
            {
                writer.Append("tick"u8);
            }

            using var caughtUp = log.CreateReader(ReadFrom.Oldest);
            while (caughtUp.TryRead(out _))
            {
            }

            writer.Append("tick"u8);
            writer.Complete();

            using var tool = ToolProcess.Run("inspect", "lagging", "--dir", _dir.Path, "--json");

            Assert.Equal(0, tool.ExitCode);
            var doc = JsonDocument.Parse(tool.Output).RootElement;
            Assert.True(doc.GetProperty("log").GetProperty("completed").GetBoolean());
            var segments = doc.GetProperty("log").GetProperty("segments").EnumerateArray()
                .Select(s => (s.GetProperty("firstSequence").GetInt64(), s.GetProperty("count").GetInt32(), s.GetProperty("isHead").GetBoolean()))
                .ToList();
            Assert.Equal([(0L, 16, false), (16L, 16, false), (32L, 9, true)], segments);
            var reader = Assert.Single(doc.GetProperty("readers").EnumerateArray().ToList());
            Assert.Equal(40, reader.GetProperty("position").GetInt64());
            Assert.Equal(1, reader.GetProperty("lag").GetInt64());

            using var table = ToolProcess.Run("inspect", "lagging", "--dir", _dir.Path);
            Assert.Contains("completed", table.Output, StringComparison.Ordinal);
            Assert.Contains("[32, 41)", table.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Inspect_shows_a_rings_readers_with_their_positions_and_lag()
    {
        var (writer, ring) = ByteRing.CreateClaimed("piped", new ByteRingOptions { Directory = _dir.Path, Capacity = 1024 });
        using (ring)
        using (writer)
        {
            using var slow = ring.CreateReader(ReadFrom.Oldest);
            using var fast = ring.CreateReader(ReadFrom.Oldest);
            Assert.Equal(300, writer.Write(new byte[300]));
            Assert.Equal(100, slow.Read(new byte[100]));
            Assert.Equal(300, fast.Read(new byte[300]));

            using var tool = ToolProcess.Run("inspect", "piped", "--dir", _dir.Path, "--json");

            Assert.Equal(0, tool.ExitCode);
            var doc = JsonDocument.Parse(tool.Output).RootElement;
            Assert.Equal("ring", doc.GetProperty("kind").GetString());
            Assert.Equal(300, doc.GetProperty("ring").GetProperty("writerPosition").GetInt64());
            var readers = doc.GetProperty("readers").EnumerateArray()
                .ToDictionary(r => r.GetProperty("slot").GetInt32(), r => (r.GetProperty("position").GetInt64(), r.GetProperty("lag").GetInt64()));
            Assert.Equal((100L, 200L), readers[slow.SlotIndex]);
            Assert.Equal((300L, 0L), readers[fast.SlotIndex]);
            Assert.All(doc.GetProperty("readers").EnumerateArray(), r => Assert.Equal(Environment.ProcessId, r.GetProperty("pid").GetInt32()));

            using var list = ToolProcess.Run("list", "--dir", _dir.Path, "--json");
            Assert.Equal(2, JsonDocument.Parse(list.Output).RootElement.EnumerateArray().Single().GetProperty("readers").GetInt32());
        }
    }

    [Fact]
    public void Tail_from_an_overwritten_sequence_starts_at_the_oldest_and_reports_the_loss()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("rolled", new SegmentedLogOptions { Directory = _dir.Path, SegmentCapacity = 4, RetainedCapacity = 8 });
        using (log)
        using (writer)
        {
            for (int i = 0; i < 40; i++)
            {
                writer.Append(Encoding.UTF8.GetBytes($"r{i}"));
            }

            long first = log.GetStatus().FirstSequence;
            Assert.True(first > 2);

            using var tail = ToolProcess.Run("tail", "rolled", "--dir", _dir.Path, "--from", "2", "--count", "2");

            Assert.Equal(0, tail.ExitCode);
            Assert.Equal([$"{first}\t0\t{$"r{first}".Length}\t\"r{first}\"", $"{first + 1}\t0\t{$"r{first + 1}".Length}\t\"r{first + 1}\""],
                tail.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains($"{first - 2:N0} records lost; starting at {first:N0}", tail.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Tail_ends_with_exit_0_when_the_writer_completes_the_log()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("finite", new SegmentedLogOptions { Directory = _dir.Path });
        using (log)
        using (writer)
        {
            writer.Append("one"u8);
            using var tail = ToolProcess.Start("tail", "finite", "--dir", _dir.Path, "--from", "oldest");
            Assert.True(tail.WaitForOutput("\"one\"", TimeSpan.FromSeconds(30)), tail.Error);
            writer.Append("two"u8);
            writer.Complete();

            Assert.True(tail.WaitForExit(TimeSpan.FromSeconds(30)), "tail did not end when the log was completed");
            Assert.Equal(0, tail.ExitCode);
            Assert.Equal(["0\t0\t3\t\"one\"", "1\t0\t3\t\"two\""], tail.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("completed", tail.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Tail_reports_a_killed_writer_with_exit_1_after_printing_everything()
    {
        using var child = ToolProcess.StartSelf("writer", _dir.Path, "killed", "3");
        Assert.True(child.WaitForOutput("ready", TimeSpan.FromSeconds(30)), child.Error);
        int pid = child.Pid;
        using var tail = ToolProcess.Start("tail", "killed", "--dir", _dir.Path, "--from", "oldest");
        Assert.True(tail.WaitForOutput("record 2", TimeSpan.FromSeconds(30)), tail.Error);

        child.Kill(); // SIGKILL: the lease still names the dead pid

        Assert.True(tail.WaitForExit(TimeSpan.FromSeconds(30)), "tail did not notice that the writer died");
        Assert.Equal(1, tail.ExitCode);
        Assert.Equal(3, tail.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains($"(pid {pid}) died without completing the stream", tail.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", tail.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Dump_prints_every_retained_record_by_segment()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("dumped", new SegmentedLogOptions { Directory = _dir.Path, SegmentCapacity = 4, RetainedCapacity = 8 });
        using (log)
        using (writer)
        {
            for (int i = 0; i < 6; i++)
            {
                writer.Append(Encoding.UTF8.GetBytes($"r{i}"));
            }

            using var tool = ToolProcess.Run("dump", "dumped", "--dir", _dir.Path);

            Assert.Equal(0, tool.ExitCode);
            string[] records = tool.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')).ToArray();
            Assert.Equal(Enumerable.Range(0, 6).Select(i => $"{i}\t0\t2\t\"r{i}\""), records);
            Assert.Contains("# segment 1: sequences [4, 6)", tool.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Delete_refuses_while_the_writer_lives_unless_forced()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("doomed", new SegmentedLogOptions { Directory = _dir.Path });
        using (log)
        using (writer)
        {
            using var refused = ToolProcess.Run("delete", "doomed", "--dir", _dir.Path);
            Assert.Equal(1, refused.ExitCode);
            Assert.True(File.Exists(log.FilePath));

            using var forced = ToolProcess.Run("delete", "doomed", "--dir", _dir.Path, "--force");
            Assert.Equal(0, forced.ExitCode);
            Assert.False(File.Exists(log.FilePath));
        }
    }

    [Theory]
    [InlineData("inspect")]
    [InlineData("inspect", "x", "--bogus")]
    [InlineData("tail", "x", "--count", "abc")]
    [InlineData("tail", "x", "--from", "yesterday")]
    [InlineData("frobnicate")]
    [InlineData("inspect", "../escape")]
    [InlineData("bridge", "out")]
    [InlineData("bridge", "in", "--stream")]
    public void Bad_arguments_exit_2_with_the_usage_and_no_stack_trace(params string[] args)
    {
        using var tool = ToolProcess.Run(args);

        Assert.Equal(2, tool.ExitCode);
        Assert.Contains(args[0] == "inspect" && args.Length == 2 ? "--help" : "Usage:", tool.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", tool.Error, StringComparison.Ordinal);
        Assert.Equal("", tool.Output);
    }

    [Fact]
    public void A_missing_name_exits_1_with_the_library_message()
    {
        using var tool = ToolProcess.Run("inspect", "no-such-log", "--dir", _dir.Path);

        Assert.Equal(1, tool.ExitCode);
        Assert.Contains("no-such-log' does not exist", tool.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", tool.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", tool.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_lists_every_command_and_exits_0()
    {
        using var tool = ToolProcess.Run("--help");

        Assert.Equal(0, tool.ExitCode);
        foreach (string command in new[] { "list", "inspect", "tail", "dump", "delete", "bridge" })
        {
            Assert.Contains($"  {command}", tool.Output, StringComparison.Ordinal);
        }
    }
}
