using System.Runtime.CompilerServices;
using SharedLog.Files;
using SharedLog.Platform;
using SharedLog.Waiting;

namespace SharedLog.Ring;

/// <summary>
/// The reader's waits for data: on the ring's data signal, as the log's readers wait (see <see cref="Signal"/>).
/// Sleeps are bounded slices, so a waiter notices a dead writer, disposal in another process and its deadline.
/// </summary>
internal sealed partial class RingConsumer
{
    /// <summary>Reads at least one byte, blocking while none is available; 0 only at the end of the stream.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int ReadBlocking(Span<byte> destination, CancellationToken cancellationToken)
    {
        while (true)
        {
            int read = Read(destination);
            if (read > 0 || destination.IsEmpty || IsCompleted)
            {
                return read;
            }

            if (!WaitForData(_position, Timeout.InfiniteTimeSpan, cancellationToken))
            {
                ThrowHelper.ThrowDisposed(nameof(RingReader));
            }
        }
    }

    /// <summary>
    /// Waits until the writer has published beyond <paramref name="beyond"/>, the stream ended, or bytes were lost.
    /// False when disposed. No thread is held while it waits (one dispatcher thread per signal of the ring handle sleeps for
    /// all async waits), and steady-state waits allocate nothing.
    /// </summary>
    public ValueTask<bool> WaitForDataAsync(long beyond, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        BeginWait(beyond);

        // As in WaitForData: a disposal from another thread waits for the probe and the registration to leave (once
        // registered, the dispatcher holds the mapping).
        _gate.Enter();
        try
        {
            int state = ((ISignalCondition)this).Probe();
            if (state != 0)
            {
                return new ValueTask<bool>(state > 0);
            }

            _asyncWaiter ??= new AsyncWaiter(this);
            return _ring.DataSignal.WaitAsync(_asyncWaiter, long.MaxValue, cancellationToken);
        }
        finally
        {
            _gate.Leave();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
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

    /// <summary>
    /// The blocking counterpart of <see cref="WaitForDataAsync"/>, idling by <see cref="IdleStrategy"/> for up to
    /// <paramref name="timeout"/>; false on timeout or when disposed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool WaitForData(long beyond, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _waitBeyond = beyond;

        // Disposing the reader from another thread waits for this wait to leave before it lets the mapping go; a
        // reader disposed before the gate's store is seen here (see WaitGate).
        _gate.Enter();
        try
        {
            // The crowd count reads the mapping: only once the disposal check has passed.
            return !Volatile.Read(ref _disposed)
                && _ring.DataSignal.Wait(new DataCondition(this), _ring.Shared.IdlerFor(_idle), timeout, cancellationToken);
        }
        finally
        {
            _gate.Leave();
        }
    }

    private void BeginWait(long beyond)
    {
        _waitBeyond = beyond;
        _watch.Begin();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void ISignalCondition.StartTimers() => _watch.Begin();

    /// <summary>
    /// This reader as the condition of its sync waits: a struct, so <see cref="Signal"/>'s wait is compiled for it and
    /// its polls are direct calls to the reader's own (sealed) implementation instead of interface calls.
    /// </summary>
    private readonly struct DataCondition(RingConsumer consumer) : ISignalCondition
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool IsReady() => ((ISignalCondition)consumer).IsReady();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Probe() => ((ISignalCondition)consumer).Probe();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void StartTimers() => ((ISignalCondition)consumer).StartTimers();
    }

    /// <summary>The spinning wait's poll: the writer's position, the completion and the tail (checked again by the probe).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    bool ISignalCondition.IsReady() => HasDataBeyond(_waitBeyond);

    /// <summary>
    /// 1 when there is something to read (or the end), 0 to keep waiting, -1 when disposed; throws
    /// <see cref="WriterDiedException"/> or <see cref="FileReplacedException"/> once everything was read. Called by the
    /// waiting thread or the dispatcher at least once per sleep slice (see <see cref="StreamWatch"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    int ISignalCondition.Probe()
    {
        if (_disposed || _owner.IsDisposed)
        {
            return -1;
        }

        if (HasDataBeyond(_waitBeyond))
        {
            return 1;
        }

        var end = _watch.FindEnd(_ring.Shared, "position", _position);
        if (end is not null && !HasDataBeyond(_waitBeyond))
        {
            throw end;
        }

        return 0;
    }
}
