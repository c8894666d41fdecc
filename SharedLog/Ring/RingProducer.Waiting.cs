using System.Diagnostics;
using System.Runtime.CompilerServices;
using SharedLog.Platform;
using SharedLog.Waiting;

namespace SharedLog.Ring;

/// <summary>
/// The writer's waits for space: on the ring's space signal, as the log's writer waits (see <see cref="Signal"/>).
/// Readers notify it when they move or drop a pin; between wake-ups the writer still wakes for its timed steps —
/// reaping dead readers and evicting the slowest after the slow-reader timeout.
/// </summary>
internal sealed partial class RingProducer
{
    /// <summary>
    /// Waits until some space is free: for the slowest live reader to move, or — after the slow-reader timeout under
    /// <see cref="SlowReaderPolicy.Block"/> — by evicting it. Completes at once when space is free already. No thread
    /// is held while it waits, and steady-state waits allocate nothing.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed while waiting.</exception>
    public ValueTask WaitForSpaceAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        BeginWait();

        // As in the blocking wait: a disposal from another thread waits for this probe to leave before it unmaps. The
        // waits after it register first, and the dispatcher holds the mapping (or refuses a disposed one).
        int state;
        _gate.Enter();
        try
        {
            state = ProbeSpace();
        }
        finally
        {
            _gate.Leave();
        }

        return state > 0 ? ValueTask.CompletedTask : WaitForSpaceSlowAsync(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WaitForSpaceSlowAsync(CancellationToken cancellationToken)
    {
        _asyncWaiter ??= new AsyncWaiter(this);
        while (true)
        {
            // Times out at the next timed step at the latest; the probe of the next round reaps or evicts.
            if (await _ring.SpaceSignal.WaitAsync(_asyncWaiter, NextTimedStep(), cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            ThrowIfDisposed();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteSlowAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            await WaitForSpaceAsync(cancellationToken).ConfigureAwait(false);
            data = data[Write(data.Span)..];
        }
    }

    /// <summary>Blocks until some space is free (see <see cref="WaitForSpaceAsync"/>), idling by <see cref="IdleStrategy"/>; false on timeout.</summary>
    /// <exception cref="ObjectDisposedException">The writer was disposed while waiting.</exception>
    public bool WaitForSpace(TimeSpan timeout)
    {
        ThrowIfDisposed();
        return WaitForSpace(WaitDeadline.From(timeout), CancellationToken.None);
    }

    /// <summary>Writes everything, blocking while slow readers hold the space (the Stream and pipe paths).</summary>
    public void WriteBlocking(ReadOnlySpan<byte> data, CancellationToken cancellationToken)
    {
        while (true)
        {
            int written = Write(data);
            data = data[written..];
            if (data.IsEmpty)
            {
                return;
            }

            WaitForSpace(long.MaxValue, cancellationToken);
        }
    }

    /// <summary>The blocking counterpart of <see cref="WaitForSpaceAsync"/> until <paramref name="deadline"/> (Stopwatch ticks); false on timeout.</summary>
    private bool WaitForSpace(long deadline, CancellationToken cancellationToken)
    {
        BeginWait();

        // Disposing the writer from another thread waits for this wait to leave before it lets the mapping go; a
        // writer disposed before the gate's store is seen here (see WaitGate).
        _gate.Enter();
        try
        {
            if (Volatile.Read(ref _disposed))
            {
                ThrowIfDisposed();
            }

            while (true)
            {
                long step = NextTimedStep();
                if (_ring.SpaceSignal.Wait(this, _ring.Shared.IdlerFor(_idle), Math.Min(deadline, step), cancellationToken))
                {
                    return true;
                }

                ThrowIfDisposed();
                if (deadline <= step || Stopwatch.GetTimestamp() >= deadline)
                {
                    return false;
                }
            }
        }
        finally
        {
            _gate.Leave();
        }
    }

    private void BeginWait()
    {
        long now = ProcessIdentity.NowMs;
        _waitDeadline = now + (long)_ring.SlowReaderTimeout.TotalMilliseconds;

        // Reaping reads /proc per candidate slot; a writer that waits only briefly (the common case under Block) skips it.
        _nextReap = now + ReapDelayMs;
    }

    /// <summary>When the probe next has timed work (a reap or an eviction), as a Stopwatch deadline for the sleep.</summary>
    private long NextTimedStep()
    {
        long inMs = Math.Max(0, Math.Min(_waitDeadline, _nextReap) - ProcessIdentity.NowMs);
        return WaitDeadline.After(Stopwatch.GetTimestamp(), inMs);
    }

    int ISignalCondition.Probe() => ProbeSpace();

    /// <summary>1 when space is free, 0 to keep waiting, -1 when disposed. Rescans, reaps and evicts as time passes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ProbeSpace()
    {
        if (_disposed)
        {
            return -1;
        }

        long now = ProcessIdentity.NowMs;
        bool reap = now >= _nextReap;
        if (reap)
        {
            _nextReap = now + ReapPeriodMs;
        }

        Rescan(reap);
        if (FreeFrom(_minPin) > 0)
        {
            return 1;
        }

        if (now >= _waitDeadline)
        {
            // The slowest live reader had SlowReaderTimeout to move; it loses its protection and finds out by validation.
            _ring.Readers.EvictAtOrBelow(_minPin);
            Rescan(reap: false);
            _waitDeadline = now + (long)_ring.SlowReaderTimeout.TotalMilliseconds;
            return FreeFrom(_minPin) > 0 ? 1 : 0;
        }

        return 0;
    }
}
