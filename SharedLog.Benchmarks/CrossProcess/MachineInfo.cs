using System.Runtime.InteropServices;

namespace SharedLog.Benchmarks.CrossProcess;

/// <summary>What a figure was measured on: cores, CPU, OS, .NET, and how busy the machine was.</summary>
public static class MachineInfo
{
    /// <summary>One line: cores, CPU model, OS, .NET version, architecture.</summary>
    public static string Describe()
    {
        string cpu = CpuModel() is { } model ? $", {model}" : "";
        return $"{Environment.ProcessorCount} cores{cpu}, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, {RuntimeInformation.ProcessArchitecture}";
    }

    /// <summary>The 1-minute load average (Linux), or null where it is not known.</summary>
    public static double? LoadAverage()
    {
        try
        {
            string text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>"load average 0.52" or an empty string where it is not known.</summary>
    public static string Load() => LoadAverage() is { } load ? $"load average {load:0.00}" : "load average unknown";

    /// <summary>The CPU model name from /proc/cpuinfo, or null.</summary>
    public static string? CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }
}
