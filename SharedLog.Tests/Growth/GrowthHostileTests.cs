using System.Diagnostics;
using SharedLog.Layout;
using SharedLog.Tests.Crash;
using SharedLog.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SharedLog.Tests.Growth;

/// <summary>A grown file that lies: an extent count out of range, a file shorter than its extents, a full file system.</summary>
[Collection(ProcessTests.Collection)]
public sealed class GrowthHostileTests : IDisposable
{
    private const int Extents = 5;
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public GrowthHostileTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(Extents + 1L)]
    [InlineData(Extents + 2L)]
    [InlineData(41L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public void A_crafted_extent_count_is_a_format_error_at_open(long count)
    {
        string path = Grown("crafted");
        GrowthFiles.WriteInt64(path, LogLayout.ExtentCountOffset, count);
        var e = Assert.Throws<SharedLogFormatException>(() => SegmentedLog.Open("crafted", _dir.Path));
        _output.WriteLine(e.Message);
        Assert.Contains("extent", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData(1 << 16)]
    public void A_grown_file_shorter_than_its_extents_is_a_format_error(int cut)
    {
        string path = Grown("short");
        GrowthFiles.SetLength(path, new FileInfo(path).Length - cut);
        var e = Assert.Throws<SharedLogFormatException>(() => SegmentedLog.Open("short", _dir.Path));
        _output.WriteLine(e.Message);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_head_beyond_the_published_extents_is_a_format_error_for_a_reader_already_following()
    {
        string path = Grown("ahead");
        using var log = SegmentedLog.Open("ahead", _dir.Path);
        using var reader = log.CreateReader(ReadFrom.Oldest);
        while (reader.TryRead(out var record))
        {
            Assert.Null(CheckedRecords.Check(record));
        }

        // The head moves into extent 5 although only 5 extents (0 to 4) are published, and the file is long enough to
        // map it: the count, not the length, is what the writer promises.
        GrowthFiles.SetLength(path, GrowthFiles.ExpectedLength(log, Extents + 1));
        GrowthFiles.WriteInt64(path, LogLayout.HeadGenerationOffset, (1L << Extents) - 1);
        var e = Assert.Throws<SharedLogFormatException>(() => reader.TryRead(out _));
        _output.WriteLine(e.Message);
        Assert.Contains($"extent {Extents}", e.Message, StringComparison.Ordinal);
        Assert.Throws<SharedLogFormatException>(() => SegmentedLog.Open("ahead", _dir.Path));
    }

    [SkippableFact]
    public void A_full_file_system_while_growing_is_a_library_exception_and_never_a_sigbus()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "tmpfs is Linux");
        string mount = Path.Combine(Path.GetTempPath(), "sharedlog-grow-full-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(mount);
        try
        {
            Skip.IfNot(ExternalCommand.Succeeds("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount), "mounting a 1 MiB tmpfs is not permitted here");
            try
            {
                // In a child: were a page left unreserved, the write into it would be a SIGBUS, which kills the process.
                using var child = Child.Start("grow-until-full", mount, "growing");
                child.AssertSuccess(TimeSpan.FromMinutes(1));
                _output.WriteLine(child.Output);
                Assert.Contains("file system is full", child.Output, StringComparison.Ordinal);
                Assert.Contains("readable", child.Output, StringComparison.Ordinal);
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

    [ChildRole("grow-until-full")]
    public static int GrowUntilFull(string[] args)
    {
        var (writer, log) = SegmentedLog.CreateClaimed(args[1], GrowthFiles.Options(args[0], maxBytes: 64L << 20, segmentBytes: 8192));
        using (log)
        using (writer)
        {
            var buffer = new byte[CheckedRecords.MaxPayload];
            try
            {
                while (true)
                {
                    CheckedRecords.AppendNext(writer, buffer);
                }
            }
            catch (SharedLogException e)
            {
                Console.WriteLine($"stopped at {writer.NextSequence} with {log.GetStatus().ExtentCount} extents: {e.Message}");
            }

            // Still whole: every record reads back, and a further append fails the same way.
            using (var snapshot = log.Snapshot())
            {
                CheckedRecords.AssertIntactAndContiguous(snapshot);
                if (snapshot.NextSequence != writer.NextSequence)
                {
                    return 1;
                }
            }

            try
            {
                CheckedRecords.AppendNext(writer, buffer);
                return 1;
            }
            catch (SharedLogException)
            {
            }

            Console.WriteLine($"readable {writer.NextSequence}");
        }

        return 0;
    }

    /// <summary>A log grown to <see cref="Extents"/> extents, closed, with its writer gone.</summary>
    private string Grown(string name)
    {
        var (writer, log) = SegmentedLog.CreateClaimed(name, GrowthFiles.Options(_dir.Path));
        using (log)
        using (writer)
        {
            var buffer = new byte[CheckedRecords.MaxPayload];
            while (log.GetStatus().ExtentCount < Extents)
            {
                CheckedRecords.AppendNext(writer, buffer);
            }

            Assert.Equal(GrowthFiles.ExpectedLength(log, Extents), new FileInfo(log.FilePath).Length);
            return log.FilePath;
        }
    }
}
