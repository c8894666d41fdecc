#:project ../../SharedLog/SharedLog.csproj

// Captures a command's stdout into a SharedLog byte ring while any number of processes follow it.
//
//   dotnet run docs/examples/ring-capture.cs -- capture NAME COMMAND [ARGS...]   # writer: runs COMMAND
//   dotnet run docs/examples/ring-capture.cs -- follow NAME                      # reader: prints the stream
//
// Start followers before or after the capture: a follower starts at the oldest byte the ring still holds and
// ends when the captured command's output ends.
using System.Diagnostics;
using System.IO.Pipes;
using SharedLog;

if (args.Length >= 3 && args[0] == "capture")
{
    ByteRing.Delete(args[1]);
    var (writer, ring) = ByteRing.CreateClaimed(args[1], new ByteRingOptions
    {
        Capacity = 4 << 20,                         // followers can start up to 4 MiB behind
        SlowReaderPolicy = SlowReaderPolicy.Evict,  // a slow follower never holds up the command
    });
    using (ring)
    using (writer)
    {
        var info = new ProcessStartInfo(args[2]) { RedirectStandardOutput = true };
        foreach (string arg in args[3..])
        {
            info.ArgumentList.Add(arg);
        }

        using var command = Process.Start(info)!;
        var stdout = command.StandardOutput.BaseStream;
        if (OperatingSystem.IsLinux() && stdout is PipeStream pipe)
        {
            // readv from the pipe straight into the ring's free space: no intermediate buffer.
            while (writer.ReadFrom(pipe.SafePipeHandle) > 0)
            {
            }
        }
        else
        {
            stdout.CopyTo(writer.AsStream());
        }

        command.WaitForExit();
        writer.Complete();
        Console.Error.WriteLine($"captured {writer.Position} bytes into {ring.FilePath}; exit code {command.ExitCode}");
    }
}
else if (args.Length == 2 && args[0] == "follow")
{
    using var ring = ByteRing.Open(args[1]);
    using var reader = ring.CreateReader(ReadFrom.Oldest);
    using var output = Console.OpenStandardOutput();
    var buffer = new byte[64 * 1024];
    int read;
    while ((read = await reader.ReadAsync(buffer)) > 0)
    {
        output.Write(buffer, 0, read);
    }

    Console.Error.WriteLine($"followed {reader.Position} bytes, lost {reader.LostBytes}");
}
else
{
    Console.Error.WriteLine("usage: capture NAME COMMAND [ARGS...] | follow NAME");
    return 2;
}

return 0;
