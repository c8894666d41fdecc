using System.Globalization;

namespace SharedLog;

/// <summary>
/// How a reader waits for data, or a writer for space: busy-spin, yield, back off (spin, then yield, then sleep
/// with growing pauses), or block (a short spin, then sleep until woken). Immutable; share instances freely.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Blocking"/> is the default: it answers within microseconds when data arrives during its short spin,
/// and otherwise costs no CPU until the other side wakes it. On Linux it sleeps on a futex in the shared file, and the
/// side that makes progress wakes it only when someone sleeps, so appends pay no system call while nobody waits.
/// Elsewhere it falls back to <see cref="Backoff"/>-style polling.
/// </para>
/// <para>
/// A blocking strategy shares the cores: while the readers of a log or ring, with its writer, outnumber the machine's
/// online CPUs (two readers on two cores, for instance), a blocking reader (or the writer, waiting for space) yields
/// through its spin phase instead of spinning, so it never holds a core that another of them needs, and lingering
/// batched reads yield too.
/// The readers are counted from the file's reader table, across processes, at most every 100 ms.
/// </para>
/// <para>
/// <see cref="BusySpin"/> gives the lowest latency and burns a core for as long as it waits; <see cref="Yielding"/>
/// burns a core too but lets other threads run; <see cref="Backoff"/> costs little CPU when idle and answers within
/// about a millisecond.
/// </para>
/// </remarks>
public sealed class IdleStrategy
{
    /// <summary>
    /// Spin steps of <see cref="Blocking"/> before it sleeps: about five microseconds, less than one futex wake-up
    /// takes, so a reply that is already on its way is caught without a sleep and a slow one costs little CPU.
    /// </summary>
    public const int DefaultBlockingSpinCount = 100;

    private IdleStrategy(Mode mode, int spinCount, int yieldCount, TimeSpan maxSleep)
    {
        IdleMode = mode;
        SpinCount = spinCount;
        YieldCount = yieldCount;
        MaxSleep = maxSleep;
    }

    /// <summary>Spins on the CPU (a pause instruction per check) for as long as it waits. Lowest latency, a full core.</summary>
    public static IdleStrategy BusySpin { get; } = new(Mode.BusySpin, 0, 0, TimeSpan.Zero);

    /// <summary>Yields the thread's time slice between checks. Low latency; a full core while nothing else runs.</summary>
    public static IdleStrategy Yielding { get; } = new(Mode.Yield, 0, 0, TimeSpan.Zero);

    /// <summary>Spins 64 times, yields 64 times, then sleeps 1 ms between checks.</summary>
    public static IdleStrategy Backoff { get; } = CreateBackoff();

    /// <summary>
    /// Spins briefly (<see cref="DefaultBlockingSpinCount"/> steps; yields them instead among readers that outnumber the
    /// cores), then sleeps until woken. The default.
    /// </summary>
    public static IdleStrategy Blocking { get; } = CreateBlocking();

    /// <summary>The strategy readers and writers use unless told otherwise: <see cref="Blocking"/>.</summary>
    public static IdleStrategy Default => Blocking;

    /// <summary>Pause steps spent spinning before yielding, sleeping or blocking.</summary>
    public int SpinCount { get; }

    /// <summary>Pause steps spent yielding before sleeping (backoff only).</summary>
    public int YieldCount { get; }

    /// <summary>The longest pause between checks once a backoff sleeps; pauses grow from 1 ms up to it.</summary>
    public TimeSpan MaxSleep { get; }

    /// <summary>Whether the waiter sleeps until woken (on Linux) after its spin phase.</summary>
    public bool Blocks => IdleMode == Mode.Block;

    internal Mode IdleMode { get; }

    /// <summary>A backoff: <paramref name="spinCount"/> spins, <paramref name="yieldCount"/> yields, then sleeps growing from 1 ms to <paramref name="maxSleep"/> (default 1 ms).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative, or the sleep is under 1 ms or over 1 s.</exception>
    public static IdleStrategy CreateBackoff(int spinCount = 64, int yieldCount = 64, TimeSpan? maxSleep = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(spinCount);
        ArgumentOutOfRangeException.ThrowIfNegative(yieldCount);
        var sleep = maxSleep ?? TimeSpan.FromMilliseconds(1);
        if (sleep < TimeSpan.FromMilliseconds(1) || sleep > TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(maxSleep), $"The longest sleep must be 1 ms to 1 s; got {sleep}.");
        }

        return new IdleStrategy(Mode.Backoff, spinCount, yieldCount, TimeSpan.FromMilliseconds(Math.Floor(sleep.TotalMilliseconds)));
    }

    /// <summary>Blocks after <paramref name="spinCount"/> spin steps (0 blocks at once).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The count is negative.</exception>
    public static IdleStrategy CreateBlocking(int spinCount = DefaultBlockingSpinCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(spinCount);
        return new IdleStrategy(Mode.Block, spinCount, 0, TimeSpan.FromMilliseconds(1));
    }

    /// <inheritdoc/>
    public override string ToString() => IdleMode switch
    {
        Mode.BusySpin => "BusySpin",
        Mode.Yield => "Yielding",
        Mode.Backoff => string.Create(CultureInfo.InvariantCulture, $"Backoff(spins {SpinCount}, yields {YieldCount}, max sleep {MaxSleep.TotalMilliseconds} ms)"),
        _ => string.Create(CultureInfo.InvariantCulture, $"Blocking(spins {SpinCount})"),
    };

    internal enum Mode
    {
        BusySpin,
        Yield,
        Backoff,
        Block,
    }
}
