using System.Diagnostics;

namespace SharedLog.Demo.Reader;

/// <summary>Opens a log by name, waiting a little for a writer that has not created it yet.</summary>
public static class LogConnection
{
    /// <summary>Opens the log, retrying for up to 10 s while it does not exist.</summary>
    public static SegmentedLog Open(string name, string? directory)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return SegmentedLog.Open(name, directory);
            }
            catch (SharedLogException) when (waited.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Sleep(50);
            }
        }
    }
}
