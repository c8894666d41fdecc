using SharedLog.Platform;
using SharedLog.Waiting;

namespace SharedLog;

/// <summary>The reader's waits for data, kept together so the waiting strategy can change in one place.</summary>
public sealed partial class RingReader
{
    /// <summary>Reads at least one byte, blocking while none is available; 0 only at the end of the stream.</summary>
    internal int ReadBlocking(Span<byte> destination, CancellationToken cancellationToken)
    {
        while (true)
        {
            int read = Read(destination);
            if (read > 0 || destination.IsEmpty || IsCompleted)
            {
                return read;
            }

            if (!WaitForData(_position, long.MaxValue, cancellationToken))
            {
                ThrowHelper.ThrowDisposed(nameof(RingReader));
            }
        }
    }

    /// <summary>
    /// Waits until the writer has published beyond <paramref name="beyond"/>, the stream ended, or bytes were lost.
    /// False when disposed.
    /// </summary>
    internal ValueTask<bool> WaitForDataAsync(long beyond, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        BeginWait(beyond);
        int state = ProbeData();
        return state != 0 ? new ValueTask<bool>(state > 0) : AsyncPolling.WaitAsync(_dataProbe, cancellationToken);
    }

    private async ValueTask<int> ReadSlowAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (!await WaitForDataAsync(_position, cancellationToken).ConfigureAwait(false))
            {
                ThrowHelper.ThrowDisposed(nameof(RingReader));
            }

            int read = Read(destination.Span);
            if (read > 0 || IsCompleted)
            {
                return read;
            }
        }
    }

    /// <summary>The blocking counterpart of <see cref="WaitForDataAsync"/>; false on timeout or when disposed.</summary>
    private bool WaitForData(long beyond, long deadlineMs, CancellationToken cancellationToken)
    {
        BeginWait(beyond);
        var backoff = default(Backoff);
        while (true)
        {
            int state = ProbeData();
            if (state != 0)
            {
                return state > 0;
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (ProcessIdentity.NowMs >= deadlineMs)
            {
                return false;
            }

            backoff.Pause();
        }
    }

    private void BeginWait(long beyond)
    {
        _waitBeyond = beyond;

        // Liveness reads /proc; a reader that waits only briefly for a live writer (the common case) skips it.
        _nextLivenessCheck = ProcessIdentity.NowMs + FirstLivenessCheckMs;
    }

    /// <summary>1 when there is something to read (or the end), 0 to keep waiting, -1 when disposed; throws when the writer died.</summary>
    private int ProbeData()
    {
        if (_disposed || _owner.IsDisposed)
        {
            return -1;
        }

        if (HasDataBeyond(_waitBeyond))
        {
            return 1;
        }

        long now = ProcessIdentity.NowMs;
        if (now >= _nextLivenessCheck)
        {
            _nextLivenessCheck = now + LivenessPeriodMs;
            int pid = _ring.DeadWriterPid();
            if (pid != 0 && !HasDataBeyond(_waitBeyond))
            {
                throw new SharedLogException(
                    $"The writer of '{_ring.FilePath}' (pid {pid}) died without completing the stream; this reader is at position {_position} " +
                    $"and everything the writer published was read. Another process can claim the writer and continue, or stop reading.");
            }
        }

        return 0;
    }
}
