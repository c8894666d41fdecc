namespace SharedLog.Benchmarks.CrossProcess;

/// <summary>Small helpers for reporting repeated measurements.</summary>
public static class Statistics
{
    /// <summary>The median (mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values];
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        Array.Sort(sorted);
        int middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>A rate with a metric suffix: 1.23M, 456k, 789.</summary>
    public static string Rate(double perSecond) => perSecond switch
    {
        >= 1e9 => $"{perSecond / 1e9:0.00}G",
        >= 1e6 => $"{perSecond / 1e6:0.00}M",
        >= 1e3 => $"{perSecond / 1e3:0.0}k",
        _ => $"{perSecond:0}",
    };

    /// <summary>A duration in the unit that suits it: 850 ns, 12.3 µs, 4.56 ms.</summary>
    public static string Duration(double nanoseconds) => nanoseconds switch
    {
        >= 1e6 => $"{nanoseconds / 1e6:0.00} ms",
        >= 1e3 => $"{nanoseconds / 1e3:0.0} µs",
        _ => $"{nanoseconds:0} ns",
    };
}
