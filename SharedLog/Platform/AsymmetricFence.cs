using System.Runtime.InteropServices;

namespace SharedLog.Platform;

/// <summary>
/// An asymmetric memory barrier across processes: the frequent side (a writer publishing, a reader moving its pin)
/// pays no fence at all, and the rare side (a waiter about to sleep) pays for both with <c>membarrier(2)</c>
/// <c>MEMBARRIER_CMD_GLOBAL_EXPEDITED</c>, which makes every running thread of every process that registered for it
/// execute a full memory barrier before the call returns.
/// </summary>
/// <remarks>
/// Design: each process registers once (<c>MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED</c>, Linux 4.16 and later) the
/// first time it uses a SharedLog file. <see cref="IsEnabled"/> is true only when this process registered; a process
/// that did not (an old kernel, a seccomp filter, or <c>SHAREDLOG_SYMMETRIC_FENCES=1</c>) keeps a full fence on the
/// frequent side. Its waiters still call the barrier wherever the kernel offers it, because the notifiers that skip
/// their fence are in the other processes sharing the file, and issuing the command needs no registration.
/// Correctness of the pair (store, then load on both sides): a waiter stores its need-wakeup flag, calls
/// <see cref="Barrier"/>, and re-reads the state; a notifier stores the state and reads the flag with a plain load.
/// The barrier puts a full fence in every registered notifier's instruction stream somewhere between the waiter's
/// store and its re-read, so either the notifier's load comes after it (and sees the flag), or the notifier's store
/// came before it (and the waiter's re-read sees the state). A thread that is not running at that instant passed a
/// context switch, which is a full barrier too.
/// </remarks>
internal static partial class AsymmetricFence
{
    private const int CommandQuery = 0;
    private const int CommandGlobalExpedited = 1 << 1;
    private const int CommandRegisterGlobalExpedited = 1 << 2;

    /// <summary>Whether the kernel offers the global expedited barrier (queried once, whatever this process opted for).</summary>
    private static readonly bool s_canIssue = Supported();

    /// <summary>Whether this process registered, so its notifiers may skip the fence (see the remarks).</summary>
    public static bool IsEnabled { get; } = Register();

    /// <summary>
    /// The waiter's half: a full barrier in every registered process's running threads. A few microseconds; called
    /// only before going to sleep. It runs whether or not this process registered: the notifiers that rely on it live
    /// in the other processes sharing the file, and issuing the command needs no registration. Returns false (and
    /// does nothing) where the kernel does not offer it; then no process can have registered.
    /// </summary>
    public static bool Barrier()
    {
        if (!s_canIssue)
        {
            return false;
        }

        return Syscall(SyscallNumber, CommandGlobalExpedited, 0, 0) >= 0;
    }

    /// <summary>SYS_membarrier: 324 on x86_64, 283 on arm64; 0 where it is not wired up here.</summary>
    private static nint SyscallNumber => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 324,
        Architecture.Arm64 => 283,
        _ => 0,
    };

    private static bool Register()
    {
        if (!s_canIssue || Environment.GetEnvironmentVariable("SHAREDLOG_SYMMETRIC_FENCES") == "1")
        {
            return false;
        }

        return Syscall(SyscallNumber, CommandRegisterGlobalExpedited, 0, 0) >= 0;
    }

    private static bool Supported()
    {
        if (!OperatingSystem.IsLinux() || SyscallNumber == 0)
        {
            return false;
        }

        try
        {
            nint supported = Syscall(SyscallNumber, CommandQuery, 0, 0);
            return supported >= 0 && (supported & (CommandGlobalExpedited | CommandRegisterGlobalExpedited)) == (CommandGlobalExpedited | CommandRegisterGlobalExpedited);
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

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial nint Syscall(nint number, nint command, nint flags, nint cpuId);
}
