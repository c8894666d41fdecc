using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace SharedLog.Waiting;

/// <summary>Wait deadlines in <see cref="Stopwatch"/> ticks, as <see cref="Signal"/> takes them.</summary>
internal static class WaitDeadline
{
    /// <summary>
    /// The deadline <paramref name="timeout"/> from now; <see cref="long.MaxValue"/> for
    /// <see cref="Timeout.InfiniteTimeSpan"/> or a timeout too long to represent.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static long From(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return long.MaxValue;
        }

        Validate(timeout);
        double ticks = timeout.TotalSeconds * Stopwatch.Frequency;
        long now = Stopwatch.GetTimestamp();
        return ticks >= long.MaxValue - now ? long.MaxValue : now + (long)ticks;
    }

    /// <summary>Checks a timeout without reading the clock: <see cref="Timeout.InfiniteTimeSpan"/> or not negative.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The timeout is negative (other than infinite).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Validate(TimeSpan timeout)
    {
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        }
    }

    /// <summary>The deadline <paramref name="milliseconds"/> from <paramref name="now"/> (Stopwatch ticks).</summary>
    public static long After(long now, long milliseconds)
    {
        long ticks = milliseconds >= long.MaxValue / Stopwatch.Frequency ? long.MaxValue : milliseconds * Stopwatch.Frequency / 1000;
        return ticks >= long.MaxValue - now ? long.MaxValue : now + ticks;
    }
}
