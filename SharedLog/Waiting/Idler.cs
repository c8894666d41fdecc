using System.Runtime.CompilerServices;
using SharedLog.Platform;

namespace SharedLog.Waiting;

/// <summary>
/// The polling phases of an <see cref="IdleStrategy"/>, one pause per call. A blocking strategy reports when its
/// spin phase is over (<see cref="ShouldBlock"/>) and the caller sleeps on its <see cref="Signal"/> instead.
/// </summary>
/// <remarks>
/// Each pause is a short call into the runtime (a few pause instructions, a yield or a sleep), so a long wait never
/// holds up a garbage collection.
/// </remarks>
internal struct Idler
{
    private readonly IdleStrategy _strategy;
    private readonly bool _yieldSpins;
    private int _step;
    private int _sleepMs;

    /// <param name="strategy">The waiter's strategy.</param>
    /// <param name="crowded">
    /// True when the waiters and the writer outnumber the cores (<see cref="Files.SharedFile.ReadersCrowdCores"/>): a
    /// blocking strategy then yields through its spin phase instead of spinning, so it leaves the core to whoever
    /// shares it. The other strategies are what their users chose and stay as they are.
    /// </param>
    public Idler(IdleStrategy strategy, bool crowded = false)
    {
        _strategy = strategy;
        _yieldSpins = crowded && strategy.Blocks;
        _step = 0;
        _sleepMs = 1;
    }

    /// <summary>True when the strategy blocks now: its spin phase is over and futexes work on this platform.</summary>
    public readonly bool ShouldBlock
        => _strategy.IdleMode == IdleStrategy.Mode.Block && _step >= _strategy.SpinCount && Futex.IsSupported;

    /// <summary>True while the next pause is a spin (busy-spin, or the spin phase of the other strategies).</summary>
    public readonly bool IsSpinning
        => _strategy.IdleMode == IdleStrategy.Mode.BusySpin
            || (_strategy.IdleMode != IdleStrategy.Mode.Yield && !_yieldSpins && _step < _strategy.SpinCount);

    /// <summary>Pauses once: spin, yield or sleep, by the strategy and how long the wait has lasted.</summary>
    /// <remarks>A busy-spin pause is inlined into the waiting loop: it runs between two polls of a spinning reader.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Pause()
    {
        if (_strategy.IdleMode == IdleStrategy.Mode.BusySpin)
        {
            Thread.SpinWait(1);
            return;
        }

        PausePhased();
    }

    /// <summary>The other strategies' pause: a yield, or the spin, yield and sleep phases by how long the wait has lasted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PausePhased()
    {
        var strategy = _strategy;
        if (strategy.IdleMode == IdleStrategy.Mode.Yield)
        {
            Thread.Yield();
            return;
        }

        int step = _step;
        if (step < strategy.SpinCount)
        {
            _step = step + 1;
            if (_yieldSpins)
            {
                Thread.Yield();
            }
            else
            {
                Thread.SpinWait(1);
            }
        }
        else if (step < strategy.SpinCount + strategy.YieldCount)
        {
            _step = step + 1;
            Thread.Yield();
        }
        else
        {
            // Backoff's sleep phase, and blocking where there are no futexes: pauses grow up to MaxSleep.
            Thread.Sleep(_sleepMs);
            _sleepMs = Math.Min(_sleepMs * 2, (int)strategy.MaxSleep.TotalMilliseconds);
        }
    }
}
