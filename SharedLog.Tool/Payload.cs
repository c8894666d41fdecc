using System.Globalization;
using System.Text;

namespace SharedLog.Tool;

/// <summary>How <c>tail</c> and <c>dump</c> show a payload.</summary>
internal enum PayloadFormat
{
    /// <summary>Quoted UTF-8 when the bytes are printable UTF-8, else hex.</summary>
    Auto,

    /// <summary>Always hex.</summary>
    Hex,

    /// <summary>Always quoted UTF-8 (invalid bytes shown as U+FFFD).</summary>
    Utf8,
}

/// <summary>Renders payloads as one line of text: <c>"text"</c> with C escapes, or <c>0x</c> hex.</summary>
internal static class Payload
{
    private static readonly UTF8Encoding s_strict = new(false, throwOnInvalidBytes: true);

    /// <summary>Shows at most <paramref name="maxBytes"/> bytes (0: all), then how many were left out.</summary>
    public static string Show(ReadOnlySpan<byte> payload, PayloadFormat format, int maxBytes)
    {
        var shown = maxBytes > 0 && payload.Length > maxBytes ? payload[..maxBytes] : payload;
        string more = shown.Length < payload.Length ? string.Create(CultureInfo.InvariantCulture, $" ...(+{payload.Length - shown.Length} bytes)") : "";
        if (format != PayloadFormat.Hex && TryText(shown, format == PayloadFormat.Utf8, out string? text))
        {
            return text + more;
        }

        return (shown.IsEmpty ? "" : "0x" + Convert.ToHexStringLower(shown)) + more;
    }

    private static bool TryText(ReadOnlySpan<byte> bytes, bool lenient, out string? text)
    {
        string decoded;
        try
        {
            decoded = lenient ? Encoding.UTF8.GetString(bytes) : s_strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            text = null;
            return false;
        }

        var builder = new StringBuilder(decoded.Length + 2).Append('"');
        foreach (char c in decoded)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case < ' ' or '\x7f':
                    if (!lenient)
                    {
                        text = null;
                        return false; // binary, not text: show it as hex
                    }

                    builder.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
                    break;
                default: builder.Append(c); break;
            }
        }

        text = builder.Append('"').ToString();
        return true;
    }
}
