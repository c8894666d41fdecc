using System.Text;

namespace SharedLog.Nats;

/// <summary>Parses the base64 header block of a message read back through the JetStream message-get API.</summary>
internal static class StoredHeaders
{
    /// <summary>Returns the value of <paramref name="key"/> in a base64 <c>NATS/1.0</c> header block, or null.</summary>
    public static string? Find(string? base64, string key)
    {
        if (string.IsNullOrEmpty(base64))
        {
            return null;
        }

        string block;
        try
        {
            block = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        }
        catch (FormatException)
        {
            return null;
        }

        string? found = null;
        foreach (string line in block.Split("\r\n"))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Trim().Equals(key, StringComparison.OrdinalIgnoreCase))
            {
                found = line[(colon + 1)..].Trim();
            }
        }

        return found;
    }
}
