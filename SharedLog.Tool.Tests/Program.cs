using System.Text;

namespace SharedLog.Tool.Tests;

/// <summary>
/// Entry point when the test assembly runs as a child process: <c>writer DIR NAME COUNT</c> creates a log, claims its
/// writer, appends COUNT records, prints "ready" and sleeps until it is killed (leaving a dead writer's lease).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is not ["writer", string directory, string name, string count])
        {
            Console.Error.WriteLine("usage: SharedLog.Tool.Tests writer DIR NAME COUNT");
            return 2;
        }

        var (writer, log) = SegmentedLog.CreateClaimed(name, new SegmentedLogOptions { Directory = directory, SegmentCapacity = 16, RetainedCapacity = 64 });
        for (int i = 0; i < int.Parse(count, System.Globalization.CultureInfo.InvariantCulture); i++)
        {
            writer.Append(Encoding.UTF8.GetBytes($"record {i}"), typeId: 7);
        }

        Console.WriteLine("ready");
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
        GC.KeepAlive(log);
        return 0;
    }
}
