using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SharedLog.Platform;

/// <summary>The Linux futex through <c>syscall(SYS_futex, ...)</c>: glibc and musl have no wrapper.</summary>
internal static unsafe partial class Futex
{
    private const int FutexWaitOp = 0;
    private const int FutexWakeOp = 1;
    private const int ErrorInterrupted = 4;
    private const int ErrorAgain = 11;
    private const int ErrorNoSystemCall = 38;
    private const int ErrorTimedOut = 110;

    /// <summary>SYS_futex: 202 on x86_64, 98 on arm64 (the generic table); 0 where it is not wired up here.</summary>
    private static nint LinuxSyscallNumber => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 202,
        Architecture.Arm64 => 98,
        _ => 0,
    };

    /// <summary>Whether futexes work here: a wake on a private word succeeds unless the syscall is missing or filtered.</summary>
    private static bool ProbeLinux()
    {
        if (LinuxSyscallNumber == 0)
        {
            return false;
        }

        try
        {
            int word = 0;
            return Syscall(LinuxSyscallNumber, &word, FutexWakeOp, 1, null, 0, 0) >= 0;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    private static void WaitLinux(int* address, int expected, long ticks)
    {
        long nanoseconds = (long)(ticks * (1_000_000_000.0 / Stopwatch.Frequency));
        var timeout = new Timespec { Seconds = nanoseconds / 1_000_000_000, Nanoseconds = nanoseconds % 1_000_000_000 };

        // FUTEX_WAIT (shared): sleeps only if *address still equals expected; the timeout is relative.
        nint result = Syscall(LinuxSyscallNumber, address, FutexWaitOp, expected, &timeout, 0, 0);
        if (result < 0)
        {
            int error = Marshal.GetLastPInvokeError();
            if (error is not (ErrorAgain or ErrorInterrupted or ErrorTimedOut))
            {
                ThrowFailed("FUTEX_WAIT", error);
            }
        }
    }

    private static int WakeLinux(int* address)
    {
        nint result = Syscall(LinuxSyscallNumber, address, FutexWakeOp, int.MaxValue, null, 0, 0);
        if (result < 0)
        {
            ThrowFailed("FUTEX_WAKE", Marshal.GetLastPInvokeError());
        }

        return (int)result;
    }

    private static void ThrowFailed(string operation, int error)
        => throw new SharedLogException(error == ErrorNoSystemCall
            ? $"{operation} is not available (ENOSYS): this kernel or sandbox does not allow futexes."
            : $"{operation} on a shared-memory word failed with errno {error}.");

    // syscall(2) is variadic; on x86_64 and arm64 Linux, integer and pointer arguments travel in the same registers
    // as for a fixed-argument call, so a fixed signature of pointer-sized arguments is exact.
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial nint Syscall(nint number, int* address, nint operation, nint value, Timespec* timeout, nint address2, nint value3);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
