using System.Runtime.InteropServices;

namespace SharedLog.Nats.Tests.Infrastructure;

/// <summary>POSIX signals the tests send to their own child processes.</summary>
public static class Signals
{
    public const int SigKill = 9;
    public const int SigCont = 18;
    public const int SigStop = 19;

    public static void Send(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    // DllImport, not LibraryImport: the generated stub needs unsafe code, which only the core library enables.
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
