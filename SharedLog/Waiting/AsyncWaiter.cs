using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace SharedLog.Waiting;

/// <summary>
/// One reusable async wait of one reader or writer: the completion source behind the <see cref="ValueTask{TResult}"/>
/// its <c>WaitAsync</c> returns, so a steady stream of waits allocates nothing.
/// </summary>
/// <remarks>
/// Design: a wait is armed by <see cref="Start"/> and completed exactly once by whoever first exchanges the armed
/// flag to 0: the dispatcher (condition holds, closed, deadline passed), the cancellation callback, or the owner's
/// Dispose. The winner removes it from the dispatcher, then completes the source. Continuations run on the thread
/// pool, never on the dispatcher thread, so a slow consumer does not hold up other waiters. The source is reset
/// when its result is taken (GetResult), after which the owner may wait again; one wait at a time.
/// </remarks>
internal sealed class AsyncWaiter : IValueTaskSource<bool>
{
    private readonly ISignalCondition _condition;
    private ManualResetValueTaskSourceCore<bool> _core;
    private SignalDispatcher? _dispatcher;
    private CancellationTokenRegistration _registration;
    private int _armed;
    private int _inUse;
    private long _deadline;

    public AsyncWaiter(ISignalCondition condition)
    {
        _condition = condition;
        _core.RunContinuationsAsynchronously = true;
    }

    /// <summary>When the pending wait times out (Stopwatch ticks), or <see cref="long.MaxValue"/>.</summary>
    public long Deadline => Volatile.Read(ref _deadline);

    /// <summary>Whether a wait is pending and not yet completed.</summary>
    public bool IsArmed => Volatile.Read(ref _armed) != 0;

    /// <summary>Arms a wait with <paramref name="dispatcher"/> and returns its task.</summary>
    /// <exception cref="InvalidOperationException">A wait is already pending.</exception>
    public ValueTask<bool> Start(SignalDispatcher dispatcher, long deadline, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _inUse, 1) != 0)
        {
            ThrowHelper.ThrowInvalidOperation("A wait is already pending on this reader or writer; await it before waiting again.");
        }

        short version = _core.Version;
        _dispatcher = dispatcher;
        Volatile.Write(ref _deadline, deadline);
        Volatile.Write(ref _armed, 1);
        dispatcher.Add(this);

        // Re-check after registering: a state change between the caller's probe and the registration may have found
        // the dispatcher already asleep with a list that did not hold this wait yet.
        Poll(Stopwatch.GetTimestamp());
        if (cancellationToken.CanBeCanceled && IsArmed)
        {
            _registration = cancellationToken.UnsafeRegister(static (state, token) => ((AsyncWaiter)state!).TryCancel(token), this);
        }

        return new ValueTask<bool>(this, version);
    }

    /// <summary>
    /// Probes the condition and completes the wait when it holds, is closed, or <paramref name="now"/> passed the
    /// deadline. Returns true when this call completed it.
    /// </summary>
    public bool Poll(long now)
    {
        if (!IsArmed)
        {
            return false;
        }

        int state;
        try
        {
            state = _condition.Probe();
        }
        catch (Exception e)
        {
            return TryFail(e);
        }

        if (state != 0)
        {
            return TryComplete(state > 0);
        }

        return now >= Deadline && TryComplete(false);
    }

    /// <summary>Completes the pending wait with <paramref name="result"/> unless it already completed.</summary>
    public bool TryComplete(bool result)
    {
        if (!Disarm())
        {
            return false;
        }

        _core.SetResult(result);
        return true;
    }

    /// <summary>Completes the pending wait with <paramref name="error"/> unless it already completed.</summary>
    public bool TryFail(Exception error)
    {
        if (!Disarm())
        {
            return false;
        }

        _core.SetException(error);
        return true;
    }

    bool IValueTaskSource<bool>.GetResult(short token)
    {
        if (token != _core.Version)
        {
            ThrowHelper.ThrowInvalidOperation("This wait's result was already taken.");
        }

        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // Waits for a cancellation callback still running on another thread, so it cannot touch the next wait.
            _registration.Dispose();
            _registration = default;
            _core.Reset();
            Volatile.Write(ref _inUse, 0);
        }
    }

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);

    private void TryCancel(CancellationToken token) => TryFail(new OperationCanceledException(token));

    private bool Disarm()
    {
        if (Interlocked.Exchange(ref _armed, 0) == 0)
        {
            return false;
        }

        _dispatcher!.Remove(this);
        return true;
    }
}
