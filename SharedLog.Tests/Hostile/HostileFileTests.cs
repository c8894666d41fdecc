using System.Buffers.Binary;
using System.Diagnostics;
using SharedLog.Layout;
using SharedLog.Tests.Crash;
using SharedLog.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SharedLog.Tests.Hostile;

/// <summary>
/// Files that are not what they claim, names that try to leave the directory, a full filesystem, and handles used
/// after they were disposed: each is a clear library exception, never a crash.
/// </summary>
[Collection(ProcessTests.Collection)]
public sealed class HostileFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public HostileFileTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    private SegmentedLogOptions Options() => new() { SegmentCapacity = 8, RetainedCapacity = 16, MaxReaders = 4, Directory = _dir.Path };

    private byte[] ValidFile()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("valid", Options());
        using (writer)
        using (log)
        {
            for (long i = 0; i < 30; i++)
            {
                writer.Append(i);
            }
        }

        byte[] bytes = File.ReadAllBytes(_dir.File("valid"));
        SegmentedLog.Delete("valid", _dir.Path);
        return bytes;
    }

    private SharedLogException OpenFails(byte[] bytes)
    {
        File.WriteAllBytes(_dir.File("bad"), bytes);
        try
        {
            var e = Assert.ThrowsAny<SharedLogException>(() => SegmentedLog.Open("bad", _dir.Path).Dispose());
            Assert.Contains(_dir.File("bad"), e.Message, StringComparison.Ordinal);
            return e;
        }
        finally
        {
            File.Delete(_dir.File("bad"));
        }
    }

    [Fact]
    public void Zero_length_truncated_extended_random_and_foreign_files_are_refused_with_a_clear_message()
    {
        byte[] valid = ValidFile();
        Assert.Contains("shorter than a SharedLog header", OpenFails([]).Message, StringComparison.Ordinal);
        Assert.IsType<SharedLogFormatException>(OpenFails([]));
        foreach (int length in new[] { 1, 8, FileLayout.HeaderLength - 1 })
        {
            Assert.IsType<SharedLogFormatException>(OpenFails(valid[..length]));
        }

        foreach (int length in new[] { FileLayout.HeaderLength, 4096, valid.Length - 1 })
        {
            Assert.Contains("truncated or extended", OpenFails(valid[..length]).Message, StringComparison.Ordinal);
        }

        Assert.Contains("truncated or extended", OpenFails([.. valid, 0, 0, 0, 0, 0, 0, 0, 0]).Message, StringComparison.Ordinal);

        var random = new Random(5);
        var noise = new byte[valid.Length];
        random.NextBytes(noise);
        Assert.Contains("wrong magic number", OpenFails(noise).Message, StringComparison.Ordinal);
        Assert.Contains("wrong magic number", OpenFails(System.Text.Encoding.UTF8.GetBytes(new string('#', 5000))).Message, StringComparison.Ordinal);

        // A byte ring is a SharedLog file, but not a log.
        using (ByteRing.Create("ring", new ByteRingOptions { Capacity = 4096, Directory = _dir.Path }))
        {
            var e = Assert.Throws<SharedLogFormatException>(() => SegmentedLog.Open("ring", _dir.Path));
            Assert.Contains("is a byte ring, not a segmented log", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Crafted_headers_with_a_valid_checksum_are_refused_by_the_deeper_checks()
    {
        byte[] valid = ValidFile();
        (int Offset, long Value, string Message)[] cases =
        [
            (FileLayout.VersionOffset, 1, "layout version 1"),
            (FileLayout.VersionOffset, FileLayout.CurrentVersion + 1, $"layout version {FileLayout.CurrentVersion + 1}"),
            (FileLayout.KindOffset, 7, "unknown kind 7"),
            (LogLayout.SegmentCapacityOffset, 0, "header's SegmentCapacity is 0"),
            (LogLayout.SegmentBytesOffset, 12, "header's SegmentBytes is 12"),
            (LogLayout.RetainedCapacityOffset, long.MaxValue, "header's RetainedCapacity is"),
            (FileLayout.MaxReadersOffset, 100_000, "header's MaxReaders is 100000"),
            (FileLayout.PolicyOffset, 9, "header's SlowReaderPolicy is 9"),
            (LogLayout.SlotCountOffset, 99, "header's SlotCount is 99"),
            (FileLayout.DataOffsetOffset, 0, "header's DataOffset is 0"),
            (FileLayout.FileLengthOffset, 1L << 50, "header's FileLength is"),
        ];
        foreach (var (offset, value, message) in cases)
        {
            byte[] bytes = (byte[])valid.Clone();
            if (offset is LogLayout.RetainedCapacityOffset or FileLayout.FileLengthOffset or FileLayout.DataOffsetOffset)
            {
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(offset), value);
            }
            else
            {
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), (int)value);
            }

            FixChecksum(bytes);
            var e = OpenFails(bytes);
            Assert.IsType<SharedLogFormatException>(e);
            Assert.Contains(message, e.Message, StringComparison.Ordinal);
        }

        // Without the checksum fixed, any change to the identity line is caught first.
        byte[] flipped = (byte[])valid.Clone();
        flipped[LogLayout.SegmentCapacityOffset] ^= 1;
        Assert.Contains("checksum mismatch", OpenFails(flipped).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_hot_fields_and_segment_headers_are_refused_or_reported_on_use()
    {
        byte[] valid = ValidFile();
        long head = BinaryPrimitives.ReadInt64LittleEndian(valid.AsSpan(LogLayout.HeadGenerationOffset));
        foreach (long value in new[] { -1L, long.MaxValue, head + 100 })
        {
            byte[] bytes = (byte[])valid.Clone();
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(LogLayout.HeadGenerationOffset), value);
            Assert.Contains("window of generations", OpenFails(bytes).Message, StringComparison.Ordinal);
        }

        // The head slot's record count beyond its capacity.
        using (var log = SegmentedLog.Create("counts", Options()))
        using (var fields = new FileFields(log))
        {
            fields.Write(fields.SlotOffset(fields.Head) + SegmentLayout.RecordCountOffset, 1_000_000);
            var e = Assert.Throws<SharedLogFormatException>(() => SegmentedLog.Open("counts", _dir.Path));
            Assert.Contains("more than its capacity", e.Message, StringComparison.Ordinal);
        }

        // A sealed segment whose first sequence does not follow its predecessor: never a gap or duplicate.
        var (writer, gapLog) = SegmentedLog.CreateClaimed("gap", Options());
        using (gapLog)
        using (var fields = new FileFields(gapLog))
        {
            for (long i = 0; i < 30; i++)
            {
                writer.Append(i);
            }

            writer.Dispose();
            long oldest = fields.Oldest;
            long slot = fields.SlotOffset(oldest + 1);
            fields.Write(slot + SegmentLayout.FirstSequenceOffset, fields.FirstSequenceAt(oldest + 1) + 3);
            using var snapshot = gapLog.Snapshot();
            var e = Assert.Throws<SharedLogFormatException>(() =>
            {
                foreach (var record in snapshot)
                {
                    _ = record.Sequence;
                }
            });
            Assert.Contains($"segment {oldest + 1} starts at sequence", e.Message, StringComparison.Ordinal);

            // And a writer refuses to append to such a window.
            e = Assert.Throws<SharedLogFormatException>(() => gapLog.TryClaimWriter(out _));
            Assert.Contains("starts at sequence", e.Message, StringComparison.Ordinal);

            // The refused claim released the lease.
            Assert.Equal(0, gapLog.WriterProcessId);
        }
    }

    [SkippableFact]
    public void A_fifo_a_directory_and_a_device_are_refused()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs and /dev are Unix");
        Directory.CreateDirectory(_dir.File("folder"));
        Assert.ThrowsAny<SharedLogException>(() => SegmentedLog.Open("folder", _dir.Path));
        Assert.ThrowsAny<SharedLogException>(() => SegmentedLog.Open("null", "/dev"));

        using (var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [_dir.File("fifo")]) { UseShellExecute = false }))
        {
            Skip.If(mkfifo is null, "mkfifo is not available");
            mkfifo.WaitForExit();
            Skip.If(mkfifo.ExitCode != 0, "mkfifo failed");
        }

        var e = Assert.ThrowsAny<SharedLogException>(() => SegmentedLog.Open("fifo", _dir.Path));
        _output.WriteLine(e.Message);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("/abs")]
    [InlineData("")]
    [InlineData(".hidden")]
    [InlineData("..")]
    [InlineData("a b")]
    [InlineData("a\0b")]
    [InlineData("a\\b")]
    [InlineData("ünïcode")]
    public void Names_that_could_escape_or_hide_are_argument_errors(string name)
    {
        var options = new SegmentedLogOptions { Directory = _dir.Path };
        Assert.ThrowsAny<ArgumentException>(() => SegmentedLog.Create(name, options));
        Assert.ThrowsAny<ArgumentException>(() => SegmentedLog.CreateClaimed(name, options));
        Assert.ThrowsAny<ArgumentException>(() => SegmentedLog.Open(name, _dir.Path));
        Assert.ThrowsAny<ArgumentException>(() => SegmentedLog.OpenOrCreate(name, options));
        Assert.ThrowsAny<ArgumentException>(() => SegmentedLog.Delete(name, _dir.Path));
        Assert.Empty(Directory.GetFileSystemEntries(_dir.Path));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_dir.Path)!, "x")));
    }

    [Fact]
    public void Name_length_is_1_to_200()
    {
        var options = new SegmentedLogOptions { SegmentCapacity = 8, RetainedCapacity = 8, Directory = _dir.Path };
        Assert.Throws<ArgumentException>(() => SegmentedLog.Create(new string('a', 201), options));
        Assert.Throws<ArgumentNullException>(() => SegmentedLog.Create(null!, options));
        using (SegmentedLog.Create(new string('a', 200), options))
        {
        }

        using (SegmentedLog.Create("a", options))
        {
        }

        Assert.Equal(2, Directory.GetFileSystemEntries(_dir.Path).Length);
    }

    [SkippableFact]
    public void Files_are_created_owner_only()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix file modes");
        using var log = SegmentedLog.Create("private", Options());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log.FilePath));
        }
    }

    [Fact]
    public void Every_handle_throws_ObjectDisposedException_after_dispose()
    {
        var (writer, log) = SegmentedLog.CreateClaimed("disposed", Options());
        var reader = log.CreateReader();
        var snapshot = log.Snapshot();
        writer.Dispose();
        reader.Dispose();
        snapshot.Dispose();
        log.Dispose();

        Assert.Throws<ObjectDisposedException>(() => writer.Append(1L));
        Assert.Throws<ObjectDisposedException>(() => writer.Append("x"u8));
        Assert.Throws<ObjectDisposedException>(() => writer.TryAppend("x"u8, out _));
        Assert.Throws<ObjectDisposedException>(() => writer.Claim(4));
        Assert.Throws<ObjectDisposedException>(() => writer.BeginRecord());
        Assert.Throws<ObjectDisposedException>(() => reader.TryRead(out _));
        Assert.Throws<ObjectDisposedException>(() => reader.Validate());
        Assert.Throws<ObjectDisposedException>(() => reader.HasData);
        Assert.Throws<ObjectDisposedException>(() => reader.Wait(TimeSpan.Zero));
        Assert.Throws<ObjectDisposedException>(() => snapshot.Refresh());
        Assert.Throws<ObjectDisposedException>(() => snapshot.GetEnumerator());
        Assert.Throws<ObjectDisposedException>(() => snapshot.TryGet(0, out _));
        Assert.Throws<ObjectDisposedException>(() => { _ = snapshot.Chunks; });
        Assert.Throws<ObjectDisposedException>(() => log.TryClaimWriter(out _));
        Assert.Throws<ObjectDisposedException>(() => log.Snapshot());
        Assert.Throws<ObjectDisposedException>(() => log.CreateReader());
        Assert.Throws<ObjectDisposedException>(() => log.GetStatus());
        Assert.Throws<ObjectDisposedException>(() => log.WriterProcessId);

        // A second dispose is harmless, and the file can be opened afresh.
        writer.Dispose();
        reader.Dispose();
        snapshot.Dispose();
        log.Dispose();
        using var reopened = SegmentedLog.Open("disposed", _dir.Path);
        Assert.True(reopened.TryClaimWriter(out var again));
        again.Dispose();
    }

    [SkippableFact]
    public void Full_filesystem_is_a_library_exception_at_create_and_never_a_sigbus_later()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "tmpfs is Linux");
        string mount = Path.Combine(Path.GetTempPath(), "sharedlog-full-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(mount);
        try
        {
            Skip.IfNot(ExternalCommand.Succeeds("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount), "mounting a 1 MiB tmpfs is not permitted here");
            try
            {
                // 1024-record segments of 128 KiB, 19 of them: far more than 1 MiB.
                var big = new SegmentedLogOptions { SegmentCapacity = 1024, RetainedCapacity = 16 * 1024, Directory = mount };
                var e = Assert.Throws<SharedLogException>(() => SegmentedLog.Create("big", big));
                _output.WriteLine(e.Message);
                Assert.Contains("Cannot reserve", e.Message, StringComparison.Ordinal);
                Assert.Empty(Directory.GetFileSystemEntries(mount));

                // A log that fits has all its pages reserved at create: a child fills the filesystem to the last byte
                // and then appends through every slot many times over. Without the reservation that is a SIGBUS.
                var small = new SegmentedLogOptions { SegmentCapacity = 64, SegmentBytes = 8192, RetainedCapacity = 256, Directory = mount };
                SegmentedLog.Create("small", small).Dispose();
                using var child = Child.Start("fill-then-append", mount, "small");
                child.AssertSuccess(TimeSpan.FromMinutes(1));
                Assert.Contains("appended 20000", child.Output, StringComparison.Ordinal);
                Assert.Throws<SharedLogException>(() => SegmentedLog.Create("another", small));
            }
            finally
            {
                if (!ExternalCommand.Succeeds("umount", mount))
                {
                    ExternalCommand.Succeeds("umount", "-l", mount);
                }
            }
        }
        finally
        {
            Directory.Delete(mount, recursive: true);
        }
    }

    [ChildRole("fill-then-append")]
    public static int FillThenAppend(string[] args)
    {
        using var log = SegmentedLog.Open(args[1], args[0]);
        if (!log.TryClaimWriter(out var writer))
        {
            return 4;
        }

        long filled = 0;
        using (var filler = new FileStream(Path.Combine(args[0], "filler"), FileMode.CreateNew))
        {
            var chunk = new byte[4096];
            try
            {
                while (true)
                {
                    filler.Write(chunk);
                    filler.Flush();
                    filled += chunk.Length;
                }
            }
            catch (IOException)
            {
            }
        }

        Console.WriteLine($"filled {filled}");
        using (writer)
        using (var reader = log.CreateReader())
        {
            var buffer = new byte[CheckedRecords.MaxPayload];
            for (int i = 0; i < 20_000; i++)
            {
                CheckedRecords.AppendNext(writer, buffer);
                while (reader.TryRead(out var record))
                {
                    if (CheckedRecords.Check(record) is { } problem)
                    {
                        Console.WriteLine("FAIL " + problem);
                        return 1;
                    }
                }
            }

            Console.WriteLine($"appended {writer.NextSequence}");
        }

        return 0;
    }

    private static void FixChecksum(byte[] bytes)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in bytes.AsSpan(0, FileLayout.ChecksummedLength))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(FileLayout.ChecksumOffset), hash);
    }
}
