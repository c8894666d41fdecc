using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace SharedLog.Waiting;

/// <summary>
/// The linger of a batched read (<see cref="RingReader.Read(Span{byte}, int, TimeSpan)"/>,
/// <see cref="LogReader.TryReadBatch(int, int, TimeSpan, out LogBatch)"/>): its bound, its validation, and the pauses
/// between two polls, with a deadline that starts at the first poll that found too little.
/// </summary>
/// <remarks>
/// Design: a reader that keeps up with a writer of small items reads each item alone, and each read pulls the lines
/// the writer is filling (and the counter it publishes) across cores while it writes next to them: transfers and a
/// stalled writer per item. Lingering lets the writer fill lines undisturbed; the read that follows takes them in one
/// sequential pass. A linger polls a published counter every <see cref="PollSpins"/> spin steps (a few hundred
/// nanoseconds), never the data, and never sleeps: a sleeping reader would cost the writer a wake-up per write. A reader
/// whose idle strategy yields yields between polls instead of spinning: on a core it shares with the writer, a spinning
/// linger would keep away the very writes it waits for.
/// </remarks>
internal struct ReadDelay
{
    /// <summary>The longest a read lingers: it spins, so it is for a flowing stream, not for waiting on an idle one.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromMilliseconds(1);

    /// <summary>Spin steps between two polls (each step is about 30 ns).</summary>
    private const int PollSpins = 8;

    private readonly long _ticks;
    private readonly bool _yield;
    private long _deadline;

    /// <param name="maxDelay">The bound (validated by the caller).</param>
    /// <param name="idle">The reader's idle strategy: <see cref="IdleStrategy.Yielding"/> yields between polls, others spin.</param>
    /// <param name="crowded">True when readers and writer outnumber the cores: a blocking strategy then yields too (see <see cref="Idler"/>).</param>
    public ReadDelay(TimeSpan maxDelay, IdleStrategy idle, bool crowded)
    {
        _ticks = (long)(maxDelay.TotalSeconds * Stopwatch.Frequency);
        _yield = idle.IdleMode == IdleStrategy.Mode.Yield || (crowded && idle.Blocks);
        _deadline = 0;
    }

    /// <summary>Whether the pauses yield (a yielding strategy, or a blocking one among crowded readers) rather than spin.</summary>
    public readonly bool Yields => _yield;

    /// <summary>Call after a poll that found too little: false once the delay has passed, else pauses until the next poll.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPause()
    {
        long now = Stopwatch.GetTimestamp();
        if (_deadline == 0)
        {
            _deadline = now + _ticks;
        }
        else if (now >= _deadline)
        {
            return false;
        }

        if (_yield)
        {
            Thread.Yield();
        }
        else
        {
            Thread.SpinWait(PollSpins);
        }

        return true;
    }

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDelay"/> is negative or above <see cref="Max"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Validate(TimeSpan maxDelay)
    {
        if (maxDelay < TimeSpan.Zero || maxDelay > Max)
        {
            ThrowOutOfRange(maxDelay);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowOutOfRange(TimeSpan maxDelay)
        => ThrowHelper.ThrowArgumentOutOfRange(nameof(maxDelay),
            $"maxDelay must be 0 to {Max.TotalMilliseconds} ms (a read lingers spinning; use Wait to wait for an idle stream); got {maxDelay}.");
}
