using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Files;

/// <summary>SharedLogFiles: the naming rules, the default directory and a look at a header without mapping the file.</summary>
public sealed class SharedLogFilesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Probe_tells_a_log_from_a_ring_by_its_header()
    {
        using var log = SegmentedLog.Create("a-log", new SegmentedLogOptions { Directory = _dir.Path });
        using var ring = ByteRing.Create("a-ring", new ByteRingOptions { Directory = _dir.Path });

        var asLog = SharedLogFiles.Probe("a-log", _dir.Path);
        var asRing = SharedLogFiles.Probe("a-ring", _dir.Path);

        Assert.Equal(new SharedLogFileInfo(log.FilePath, SharedLogFileKind.Log, new FileInfo(log.FilePath).Length), asLog);
        Assert.Equal(new SharedLogFileInfo(ring.FilePath, SharedLogFileKind.Ring, new FileInfo(ring.FilePath).Length), asRing);
        Assert.Empty(log.GetStatus().Readers);
    }

    [Fact]
    public void Probe_rejects_files_that_are_not_ours_and_names_a_missing_one()
    {
        File.WriteAllBytes(_dir.File("foreign"), new byte[4096]);
        File.WriteAllText(_dir.File("short"), "hello");
        using (var log = SegmentedLog.Create("corrupt", new SegmentedLogOptions { Directory = _dir.Path }))
        {
            using var stream = new FileStream(log.FilePath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            stream.Position = 60;
            stream.WriteByte(0x5a); // inside the checksummed identity line
        }

        Assert.Contains("wrong magic", Assert.Throws<SharedLogFormatException>(() => SharedLogFiles.Probe("foreign", _dir.Path)).Message, StringComparison.Ordinal);
        Assert.Contains("shorter than a SharedLog header", Assert.Throws<SharedLogFormatException>(() => SharedLogFiles.Probe("short", _dir.Path)).Message, StringComparison.Ordinal);
        Assert.Contains("checksum", Assert.Throws<SharedLogFormatException>(() => SharedLogFiles.Probe("corrupt", _dir.Path)).Message, StringComparison.Ordinal);
        var missing = Assert.Throws<SharedLogException>(() => SharedLogFiles.Probe("missing", _dir.Path));
        Assert.IsNotType<SharedLogFormatException>(missing);
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => SharedLogFiles.Probe("../escape", _dir.Path));
    }

    [Theory]
    [InlineData("prices", true)]
    [InlineData("a.b_c-9", true)]
    [InlineData("", false)]
    [InlineData(".hidden", false)]
    [InlineData("../escape", false)]
    [InlineData("with space", false)]
    [InlineData("ünïcode", false)]
    public void IsValidName_follows_the_rule_Create_enforces(string name, bool valid)
    {
        Assert.Equal(valid, SharedLogFiles.IsValidName(name));
        if (!valid)
        {
            Assert.Throws<ArgumentException>(() => SegmentedLog.Create(name, new SegmentedLogOptions { Directory = _dir.Path }));
        }
    }

    [Fact]
    public void IsValidName_rejects_the_length_limits()
    {
        Assert.True(SharedLogFiles.IsValidName(new string('x', 200)));
        Assert.False(SharedLogFiles.IsValidName(new string('x', 201)));
    }

    [Fact]
    public void DefaultDirectory_is_where_Create_puts_files_without_a_directory()
    {
        string name = $"default-dir-probe-{Environment.ProcessId}-{Guid.NewGuid():N}";
        using var log = SegmentedLog.Create(name, new SegmentedLogOptions { DeleteOnDispose = true });

        Assert.Equal(Path.Combine(SharedLogFiles.DefaultDirectory, name), log.FilePath);
        Assert.Equal(SharedLogFileKind.Log, SharedLogFiles.Probe(name).Kind);
    }
}
