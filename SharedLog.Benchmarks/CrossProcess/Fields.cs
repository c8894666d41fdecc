using System.Globalization;

namespace SharedLog.Benchmarks.CrossProcess;

/// <summary>
/// A child process's result line, <c>result role=NAME key=value …</c>, parsed. Children report this way so that the
/// coordinator never has to scrape human-readable text.
/// </summary>
public sealed class Fields
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    private Fields(string line)
    {
        foreach (string pair in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                _values[pair[..equals]] = pair[(equals + 1)..];
            }
        }
    }

    /// <summary>Formats a result line from key/value pairs.</summary>
    public static string Line(string role, params (string Key, object Value)[] values)
        => $"result role={role} " + string.Join(' ', values.Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.Key}={v.Value}")));

    /// <summary>Finds the result line of <paramref name="role"/> among a child's output lines.</summary>
    /// <exception cref="FormatException">There is none.</exception>
    public static Fields Find(IEnumerable<string> lines, string role)
    {
        string prefix = $"result role={role} ";
        foreach (string line in lines)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return new Fields(line);
            }
        }

        throw new FormatException($"no result line from the {role}; the output was:\n{string.Join('\n', lines)}");
    }

    /// <summary>A 64-bit integer field.</summary>
    /// <exception cref="FormatException">The field is missing or not an integer.</exception>
    public long Long(string key)
        => _values.TryGetValue(key, out string? text) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new FormatException($"result field '{key}' is missing or not an integer");

    /// <summary>A floating-point field.</summary>
    /// <exception cref="FormatException">The field is missing or not a number.</exception>
    public double Double(string key)
        => _values.TryGetValue(key, out string? text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? value
            : throw new FormatException($"result field '{key}' is missing or not a number");

    /// <summary>A text field, or <paramref name="fallback"/> when it is missing.</summary>
    public string Text(string key, string fallback = "") => _values.TryGetValue(key, out string? text) ? text : fallback;
}
