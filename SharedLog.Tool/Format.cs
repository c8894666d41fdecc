using System.Globalization;

namespace SharedLog.Tool;

/// <summary>Numbers for people. Ranges are printed one way everywhere: half-open, <c>[first, end)</c>.</summary>
internal static class Format
{
    /// <summary>A half-open range <c>[first, end)</c>: <paramref name="end"/> is not included.</summary>
    public static string Range(long first, long end)
        => string.Create(CultureInfo.InvariantCulture, $"[{first:N0}, {end:N0})");

    /// <summary>A count with thousands separators.</summary>
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A byte size in the unit that suits it.</summary>
    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.0} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
    };

    /// <summary>A per-second rate with a k/M suffix.</summary>
    public static string Rate(double perSecond) => perSecond switch
    {
        >= 1e6 => string.Create(CultureInfo.InvariantCulture, $"{perSecond / 1e6:0.00}M/s"),
        >= 1e3 => string.Create(CultureInfo.InvariantCulture, $"{perSecond / 1e3:0.0}k/s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{perSecond:0}/s"),
    };

    /// <summary>"pid 123 (alive)", "pid 123 (dead)" or "none".</summary>
    public static string Owner(int pid, bool alive)
        => pid == 0 ? "none" : string.Create(CultureInfo.InvariantCulture, $"pid {pid} ({(alive ? "alive" : "dead")})");
}
