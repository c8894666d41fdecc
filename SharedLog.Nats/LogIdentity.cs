using System.Globalization;

namespace SharedLog.Nats;

/// <summary>
/// Names one incarnation of a log file: its name plus a value that changes whenever the file is recreated, so message
/// ids of a recreated log (whose sequences restart at 0) never collide with the old one's.
/// </summary>
/// <remarks>
/// The core library does not expose a file's creation identity yet, so the incarnation is a hash of the file header's
/// first 128 bytes: the identity line, written once by the creator before the file is linked under its name and never
/// changed afterwards (magic, sizes, options and the creation time in Unix ms). Reading it is plain file I/O and trusts
/// nothing: the bytes are only hashed. When the core gains a public creation id, <see cref="Of"/> is the one place to
/// switch to it.
/// </remarks>
public readonly record struct LogIdentity(string Name, ulong Incarnation)
{
    private const int IdentityLineLength = 128;

    /// <summary>The identity as written in <see cref="BridgeHeaders.Source"/>: <c>NAME:INCARNATION</c> (16 hex digits).</summary>
    public override string ToString() => $"{Name}:{Incarnation:x16}";

    /// <summary>The JetStream message id of the record at <paramref name="sequence"/>.</summary>
    public string MessageId(long sequence) => $"{Name}:{Incarnation:x16}:{sequence.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The JetStream message id of the gap marker whose first lost sequence is <paramref name="fromSequence"/>.</summary>
    public string GapMessageId(long fromSequence) => $"{Name}:{Incarnation:x16}:gap:{fromSequence.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Reads the identity of the file behind <paramref name="log"/>.</summary>
    public static LogIdentity Of(SegmentedLog log, string name)
    {
        ArgumentNullException.ThrowIfNull(log);
        Span<byte> line = stackalloc byte[IdentityLineLength];
        using (var file = new FileStream(log.FilePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            file.ReadExactly(line);
        }

        // FNV-1a, 64-bit: stable across processes and runs (string.GetHashCode is randomised per process).
        ulong hash = 14695981039346656037UL;
        foreach (byte b in line)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return new LogIdentity(name, hash);
    }

    /// <summary>Parses a <see cref="BridgeHeaders.Source"/> value; false when it is not one.</summary>
    public static bool TryParse(string? text, out LogIdentity identity)
    {
        identity = default;
        int colon = text is null ? -1 : text.LastIndexOf(':');
        if (colon <= 0 || text!.Length - colon - 1 != 16
            || !ulong.TryParse(text.AsSpan(colon + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong incarnation))
        {
            return false;
        }

        identity = new LogIdentity(text[..colon], incarnation);
        return true;
    }
}
