using System.Diagnostics;
using SharedLog.Platform;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Platform;

/// <summary>
/// Liveness from <c>/proc/PID/stat</c>, read without allocating: the start time in field 22 after the command name,
/// which may itself contain spaces and parentheses.
/// </summary>
public sealed class ProcessIdentityTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [SkippableFact]
    public void This_process_is_alive_with_its_own_start_time_and_dead_with_another()
    {
        Skip.IfNot(OperatingSystem.IsLinux());
        Assert.True(ProcessIdentity.StartTime > 0);
        Assert.Equal(Liveness.Alive, ProcessIdentity.Check(ProcessIdentity.Pid, ProcessIdentity.StartTime, ProcessIdentity.PidNamespace));
        Assert.Equal(Liveness.Dead, ProcessIdentity.Check(ProcessIdentity.Pid, ProcessIdentity.StartTime + 1, ProcessIdentity.PidNamespace));
    }

    [SkippableFact]
    public void A_process_whose_name_has_spaces_and_parentheses_is_read_alive_then_dead()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && File.Exists("/bin/sleep"));

        // The kernel keeps the first 15 bytes of the executable's name as field 2, in parentheses.
        string program = _dir.File("a) b (c) d");
        File.Copy("/bin/sleep", program);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }

        using var child = Process.Start(new ProcessStartInfo(program, "30") { UseShellExecute = false })!;
        try
        {
            // A start time of 0 means "not recorded": Alive then needs the stat line to parse.
            Assert.Equal(Liveness.Alive, ProcessIdentity.Check(child.Id, 0, ProcessIdentity.PidNamespace));
            Assert.Equal(Liveness.Dead, ProcessIdentity.Check(child.Id, 1, ProcessIdentity.PidNamespace));
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }

        Assert.Equal(Liveness.Dead, ProcessIdentity.Check(child.Id, 0, ProcessIdentity.PidNamespace));
    }

    [SkippableFact]
    public void Reading_liveness_allocates_nothing()
    {
        Skip.IfNot(OperatingSystem.IsLinux());
        Assert.Equal(Liveness.Alive, ProcessIdentity.Check(ProcessIdentity.Pid, ProcessIdentity.StartTime, ProcessIdentity.PidNamespace));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            ProcessIdentity.Check(ProcessIdentity.Pid, ProcessIdentity.StartTime, ProcessIdentity.PidNamespace);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
