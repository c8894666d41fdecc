using System.Globalization;

namespace SharedLog.Benchmarks.CrossProcess;

/// <summary>
/// <c>--name value</c> and <c>--flag</c> options of a cross-process benchmark. Every value has a default, so a
/// benchmark runs with no options at all; unknown options are an error rather than silently ignored.
/// </summary>
public sealed class BenchOptions
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    private BenchOptions()
    {
    }

    /// <summary>Parses <c>--name value</c> pairs and bare <c>--flag</c>s.</summary>
    /// <exception cref="ArgumentException">An argument does not start with <c>--</c>.</exception>
    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (int i = 0; i < args.Count; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || args[i].Length == 2)
            {
                throw new ArgumentException($"unexpected argument '{args[i]}' (options look like --name value)");
            }

            string name = args[i][2..];
            string? value = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null;
            options._values[name] = value;
        }

        return options;
    }

    /// <summary>Whether <c>--name</c> was given (with or without a value).</summary>
    public bool Has(string name)
    {
        _used.Add(name);
        return _values.ContainsKey(name);
    }

    /// <summary>The value of <c>--name</c>, or <paramref name="fallback"/>.</summary>
    public string Text(string name, string fallback)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out string? value) && value is not null ? value : fallback;
    }

    /// <summary>The value of <c>--name</c>, or null.</summary>
    public string? TextOrNull(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out string? value) ? value : null;
    }

    /// <summary>An integer option (accepts <c>_</c> separators and k/M suffixes: <c>64k</c>, <c>1M</c>).</summary>
    public long Integer(string name, long fallback)
    {
        string? text = TextOrNull(name);
        if (text is null)
        {
            return fallback;
        }

        text = text.Replace("_", "", StringComparison.Ordinal);
        long scale = 1;
        if (text.EndsWith('k') || text.EndsWith('K'))
        {
            scale = 1 << 10;
            text = text[..^1];
        }
        else if (text.EndsWith('M'))
        {
            scale = 1 << 20;
            text = text[..^1];
        }

        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value)
            ? value * scale
            : throw new ArgumentException($"--{name} expects an integer, not '{text}'");
    }

    /// <summary>A floating-point option.</summary>
    public double Number(string name, double fallback)
    {
        string? text = TextOrNull(name);
        return text is null
            ? fallback
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
                ? value
                : throw new ArgumentException($"--{name} expects a number, not '{text}'");
    }

    /// <summary>Throws if an option was given that no one asked about (a typo would otherwise go unnoticed).</summary>
    public void ThrowIfUnknown()
    {
        foreach (string name in _values.Keys)
        {
            if (!_used.Contains(name))
            {
                throw new ArgumentException($"unknown option --{name}");
            }
        }
    }
}
