using SharedLog.Nats.Tests.Infrastructure;

namespace SharedLog.Nats.Tests;

public sealed class BridgeUnitTests
{
    [Fact]
    public void Template_ResolvesNameAndType_AndItsFilterCoversGapMarkers()
    {
        var template = new SubjectTemplate("md.{name}.{type}.v1", "ticks");
        Assert.Equal("md.ticks.7.v1", template.Resolve(7));
        Assert.Equal("md.ticks.-3.v1", template.Resolve(-3));
        Assert.Equal("md.ticks.*.v1", template.Filter);
        Assert.Equal("md.ticks.gap.v1", template.GapSubject);
    }

    [Fact]
    public void Template_WithoutType_PublishesEverythingToOneSubject()
    {
        var template = new SubjectTemplate("{name}", "orders");
        Assert.Equal("orders", template.Resolve(5));
        Assert.Equal("orders", template.Filter);
        Assert.Equal("orders", template.GapSubject);
    }

    [Theory]
    [InlineData("a.*")]
    [InlineData("a.>")]
    [InlineData("a..b")]
    [InlineData("a.x{type}")]
    [InlineData("a.{type}.{type}")]
    [InlineData("a b")]
    public void Template_Invalid_Throws(string text) => Assert.Throws<ArgumentException>(() => new SubjectTemplate(text, "log"));

    [Fact]
    public void Identity_ParsesWhatItPrints()
    {
        var identity = new LogIdentity("a.b-c", 0x0123456789abcdefUL);
        Assert.True(LogIdentity.TryParse(identity.ToString(), out var parsed));
        Assert.Equal(identity, parsed);
        Assert.Equal("a.b-c:0123456789abcdef:42", identity.MessageId(42));
        Assert.False(LogIdentity.TryParse("nocolon", out _));
    }

    [Theory]
    [InlineData("out")]
    [InlineData("out", "--log", "x", "--max-in-flight", "0")]
    [InlineData("out", "--log", "x", "--subject", "a.*")]
    [InlineData("in", "--log", "x")]
    [InlineData("in", "--stream", "S", "--log", "x", "--policy", "sometimes")]
    [InlineData("sideways")]
    public async Task BridgeCommand_BadArguments_ExitWith2(params string[] args)
    {
        var root = new System.CommandLine.RootCommand("test") { BridgeCommands.CreateOut(), BridgeCommands.CreateIn() };
        var error = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        int code;
        try
        {
            code = await BridgeCommands.InvokeAsync(root, args);
        }
        finally
        {
            Console.SetError(error);
        }

        Assert.Equal(2, code);
        Assert.Contains("Usage:", captured.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Checkpoint_WithoutRecordsAfterIt_MeansThePreviousBatch()
    {
        using var dir = new TempDirectory();
        var (writer, log) = SegmentedLog.CreateClaimed("cp", new SegmentedLogOptions { Directory = dir.Path });
        using var _ = log;
        using var __ = writer;
        Assert.Null(Checkpoint.FindLastAppended(log));
        byte[] checkpoint = new byte[Checkpoint.Length(2)];
        Checkpoint.Write(checkpoint, 40, [41, 45]);
        writer.Append(checkpoint, BridgeIn.CheckpointTypeId);
        Assert.Equal(40UL, Checkpoint.FindLastAppended(log));
        writer.Append([1], 0);
        Assert.Equal(41UL, Checkpoint.FindLastAppended(log));
        writer.Append([2], 0);
        Assert.Equal(45UL, Checkpoint.FindLastAppended(log));
    }
}
