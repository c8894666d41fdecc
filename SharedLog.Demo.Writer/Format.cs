using System.Globalization;

namespace SharedLog.Demo.Writer;

/// <summary>Numbers for people: 1,234,567 / 512.3k / 4.1 µs.</summary>
public static class Format
{
    /// <summary>A count with thousands separators, or "-".</summary>
    public static string Count(long? value) => value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "-";

    /// <summary>A per-second rate with a k/M suffix, or "-".</summary>
    public static string Rate(double? perSecond) => perSecond switch
    {
        null => "-",
        >= 1e6 => string.Create(CultureInfo.InvariantCulture, $"{perSecond / 1e6:0.00}M"),
        >= 1e3 => string.Create(CultureInfo.InvariantCulture, $"{perSecond / 1e3:0.0}k"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{perSecond:0}"),
    };

    /// <summary>A latency in nanoseconds, in the unit that suits it, or "-".</summary>
    public static string Latency(long? nanoseconds) => nanoseconds switch
    {
        null => "-",
        >= 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e9:0.00} s"),
        >= 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e6:0.0} ms"),
        >= 1_000 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e3:0.0} µs"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds} ns"),
    };
}
