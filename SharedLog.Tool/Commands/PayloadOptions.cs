using System.CommandLine;

namespace SharedLog.Tool.Commands;

/// <summary>The payload options shared by <c>tail</c> and <c>dump</c>.</summary>
internal sealed class PayloadOptions
{
    public Option<PayloadFormat> Format { get; } = new("--payload", "-p")
    {
        Description = "How to show payloads: auto (quoted UTF-8 when printable, else hex), hex or utf8",
        DefaultValueFactory = _ => PayloadFormat.Auto,
    };

    public Option<int> MaxBytes { get; } = new("--max-bytes")
    {
        Description = "Show at most this many bytes of each payload (0: all)",
        DefaultValueFactory = _ => 64,
        HelpName = "N",
    };

    public PayloadOptions() => Cli.Require(MaxBytes, v => v >= 0, "--max-bytes must not be negative.");

    public void AddTo(Command command)
    {
        command.Add(Format);
        command.Add(MaxBytes);
    }
}
