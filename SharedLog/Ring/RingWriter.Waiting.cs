using SharedLog.Platform;
using SharedLog.Waiting;

namespace SharedLog;

/// <summary>The writer's waits for space, kept together so the waiting strategy can change in one place.</summary>
public sealed partial class RingWriter
{
    /// <summary>
    /// Waits until some space is free: for the slowest live reader to move, or — after the slow-reader timeout under
    /// <see cref="SlowReaderPolicy.Block"/> — by evicting it. Completes at once when space is free already.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    /// <exception cref="ObjectDisposedException">The writer was disposed while waiting.</exception>
    public async ValueTask WaitForSpaceAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        BeginWait();
        if (!await AsyncPolling.WaitAsync(_spaceProbe, cancellationToken).ConfigureAwait(false))
        {
            ThrowHelper.ThrowDisposed(nameof(RingWriter));
        }
    }

    private async ValueTask WriteSlowAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            await WaitForSpaceAsync(cancellationToken).ConfigureAwait(false);
            data = data[Write(data.Span)..];
        }
    }

    /// <summary>Blocks until some space is free (see <see cref="WaitForSpaceAsync"/>); false on timeout.</summary>
    public bool WaitForSpace(TimeSpan timeout)
    {
        ThrowIfDisposed();
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : ProcessIdentity.NowMs + (long)timeout.TotalMilliseconds;
        return WaitForSpace(deadline, CancellationToken.None);
    }

    /// <summary>Writes everything, blocking while slow readers hold the space (the Stream and pipe paths).</summary>
    internal void WriteBlocking(ReadOnlySpan<byte> data, CancellationToken cancellationToken)
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

    /// <summary>The blocking counterpart of <see cref="WaitForSpaceAsync"/>; false on timeout.</summary>
    private bool WaitForSpace(long deadlineMs, CancellationToken cancellationToken)
    {
        BeginWait();
        var backoff = default(Backoff);
        while (true)
        {
            int state = ProbeSpace();
            if (state > 0)
            {
                return true;
            }

            if (state < 0)
            {
                ThrowHelper.ThrowDisposed(nameof(RingWriter));
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (ProcessIdentity.NowMs >= deadlineMs)
            {
                return false;
            }

            backoff.Pause();
        }
    }

    private void BeginWait()
    {
        long now = ProcessIdentity.NowMs;
        _waitDeadline = now + (long)_ring.SlowReaderTimeout.TotalMilliseconds;

        // Reaping reads /proc per candidate slot; a writer that waits only briefly (the common case under Block) skips it.
        _nextReap = now + ReapDelayMs;
    }

    /// <summary>1 when space is free, 0 to keep waiting, -1 when disposed. Rescans, reaps and evicts as time passes.</summary>
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
