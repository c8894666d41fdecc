using System.Globalization;

namespace SharedLog.Demo.Reader;

/// <summary>Ranges are printed one way everywhere in the demo: half-open, <c>[first, end)</c>, the end not included.</summary>
public static class Ranges
{
    /// <summary><c>[first, end)</c> with thousands separators.</summary>
    public static string HalfOpen(long first, long end) => string.Create(CultureInfo.InvariantCulture, $"[{first:N0}, {end:N0})");
}
