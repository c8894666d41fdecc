using System.Diagnostics;

namespace SharedLog.Platform;

/// <summary>
/// Sleeping on a 32-bit word in shared memory until another process changes it: a futex on Linux, short sleeps
/// elsewhere. Words are process-shared (no private flag): the same word is waited on and woken from any process
/// that maps the file.
/// </summary>
/// <remarks>
/// Design: <see cref="Wait"/> sleeps only while the word still holds the value the caller read (the kernel checks it
/// under its own lock), so a waker that changes the word and then calls <see cref="WakeAll"/> never loses a
/// sleeper. Every sleep is bounded by the caller's timeout; callers keep slices short so they notice disposal,
/// cancellation and dead peers. Spurious returns are normal: callers re-check their condition.
/// </remarks>
internal static unsafe partial class Futex
{
    /// <summary>
    /// The longest single sleep, in milliseconds (default 100): a bound on how late a sleeper notices what no
    /// wake-up reports (disposal in another process, a dead peer). Tests lengthen it so that a lost wake-up shows as a
    /// stall instead of a short delay.
    /// </summary>
    internal static int SliceMs { get; set; } = 100;

    /// <summary>Whether sleepers are woken by the kernel (Linux on x64 or arm64); otherwise they poll.</summary>
    public static bool IsSupported { get; } = OperatingSystem.IsLinux() && ProbeLinux();

    /// <summary>
    /// Sleeps while <c>*address == expected</c>, at most <paramref name="timeoutTicks"/> <see cref="Stopwatch"/> ticks
    /// (and one slice at most). Returns on a wake-up, a changed word, a signal or the timeout alike.
    /// </summary>
    public static void Wait(int* address, int expected, long timeoutTicks)
    {
        long slice = Math.Min(timeoutTicks, SliceMs * Stopwatch.Frequency / 1000);
        if (slice <= 0)
        {
            return;
        }

        if (IsSupported)
        {
            WaitLinux(address, expected, slice);
        }
        else if (Volatile.Read(ref *address) == expected)
        {
            Thread.Sleep(1);
        }
    }

    /// <summary>Wakes every sleeper on the word, in every process. Returns how many were woken (0 when polling).</summary>
    public static int WakeAll(int* address) => IsSupported ? WakeLinux(address) : 0;
}
