using System.Runtime.InteropServices;

namespace SharedLog.Benchmarks.Suite;

/// <summary>The two Linux calls the harness makes itself: thread affinity (for the round-trip probe) and futex (the raw baseline).</summary>
internal static class Native
{
    private const int FutexWait = 0;
    private const int FutexWake = 1;

    /// <summary>Pins the calling thread to <paramref name="cpu"/> (Linux; false elsewhere or on failure).</summary>
    public static bool PinCurrentThread(int cpu)
    {
        if (!OperatingSystem.IsLinux() || cpu < 0 || cpu >= 64)
        {
            return false;
        }

        ulong mask = 1UL << cpu;
        return SchedSetAffinity(0, sizeof(ulong), ref mask) == 0;
    }

    /// <summary>Sleeps while the 32-bit word at <paramref name="address"/> holds <paramref name="expected"/> (a shared, not private, futex).</summary>
    public static void Wait(nint address, int expected) => _ = Syscall(FutexNumber, address, FutexWait, expected, 0, 0, 0);

    /// <summary>Wakes one sleeper on the word at <paramref name="address"/>.</summary>
    public static void Wake(nint address) => _ = Syscall(FutexNumber, address, FutexWake, 1, 0, 0, 0);

    /// <summary>Whether the futex baseline can run here.</summary>
    public static bool HasFutex => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    private static long FutexNumber => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 98 : 202;

    [DllImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int SchedSetAffinity(int pid, nint size, ref ulong mask);

    [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static extern long Syscall(long number, nint address, int operation, int value, nint timeout, nint address2, int value3);
}
