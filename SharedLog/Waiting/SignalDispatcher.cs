using System.Diagnostics;

namespace SharedLog.Waiting;

/// <summary>
/// One thread per <see cref="Signal"/> (a signal of one open log or ring handle) that sleeps for all async waiters
/// on that signal and completes them, so async waits never hold a thread each. Started on the first wait; it exits
/// after a while without waiters.
/// </summary>
/// <remarks>
/// Design: the thread is one sleeper of the <see cref="Signal"/> protocol whose condition is "any registered wait
/// is satisfied". Each round it reads the word and sets the need-wakeup flag (full fence), then takes the list of
/// waits and probes each; with nothing to complete it sleeps on the word until the nearest deadline (one slice at
/// most). The list is read after the fence and a new wait probes itself after registering, so a state change is
/// seen either by that probe or by the round that follows a wake-up. Cancellation, disposal and timeouts of other
/// threads complete their wait directly; a wait whose deadline is earlier than the thread's planned sleep kicks the
/// word. While it has waits, the dispatcher holds a reference on the mapping, so probing a waiter disposed
/// concurrently never touches unmapped memory.
/// </remarks>
internal sealed class SignalDispatcher
{
    private const int IdleExitMs = 2000;
    private readonly Signal _signal;
    private readonly object _gate = new();
    private readonly List<AsyncWaiter> _waiters = [];
    private AsyncWaiter?[] _batch = new AsyncWaiter?[4];
    private bool _running;
    private bool _parked;
    private bool _holdsRegion;
    private long _sleepUntil = long.MaxValue;

    public SignalDispatcher(Signal signal) => _signal = signal;

    /// <summary>How many waits are registered (for tests and diagnostics).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>Registers an armed wait; the caller's structure keeps the mapping alive during this call.</summary>
    public void Add(AsyncWaiter waiter)
    {
        bool kick = false;
        lock (_gate)
        {
            if (!_holdsRegion)
            {
                _signal.Region.AddRef();
                _signal.AddLocalWaiter(1);
                _holdsRegion = true;
            }

            _waiters.Add(waiter);
            if (!_running)
            {
                _running = true;
                var thread = new Thread(Run) { IsBackground = true, Name = "SharedLog wait dispatcher" };
                thread.UnsafeStart();
            }
            else if (_parked)
            {
                Monitor.Pulse(_gate);
            }
            else
            {
                kick = waiter.Deadline < _sleepUntil;
            }
        }

        if (kick)
        {
            _signal.Kick();
        }
    }

    /// <summary>Unregisters a completed wait.</summary>
    public void Remove(AsyncWaiter waiter)
    {
        lock (_gate)
        {
            _waiters.Remove(waiter);
        }
    }

    private void Run()
    {
        while (true)
        {
            lock (_gate)
            {
                if (_waiters.Count == 0)
                {
                    Park();
                    if (_waiters.Count == 0)
                    {
                        _running = false;
                        return;
                    }

                    continue;
                }
            }

            try
            {
                Round();
            }
            catch (Exception e)
            {
                FailAll(e);
            }
        }
    }

    /// <summary>With no waits: gives the mapping back and waits a while for new ones. Called under the gate.</summary>
    private void Park()
    {
        if (_holdsRegion)
        {
            _holdsRegion = false;
            _signal.AddLocalWaiter(-1);
            _signal.Region.Release();
        }

        _parked = true;
        Monitor.Wait(_gate, IdleExitMs);
        _parked = false;
    }

    private void Round()
    {
        int value = _signal.PrepareSleep();
        int count;
        lock (_gate)
        {
            count = _waiters.Count;
            if (_batch.Length < count)
            {
                _batch = new AsyncWaiter?[Math.Max(count, _batch.Length * 2)];
            }

            _waiters.CopyTo(_batch!);
            _sleepUntil = long.MaxValue;
        }

        long now = Stopwatch.GetTimestamp();
        long nearest = long.MaxValue;
        bool completed = false;
        for (int i = 0; i < count; i++)
        {
            var waiter = _batch[i]!;
            _batch[i] = null;
            if (waiter.Poll(now))
            {
                completed = true;
            }
            else if (waiter.IsArmed)
            {
                nearest = Math.Min(nearest, waiter.Deadline);
            }
        }

        if (completed || count == 0)
        {
            return;
        }

        lock (_gate)
        {
            _sleepUntil = nearest;
        }

        _signal.Sleep(value, nearest);
    }

    private void FailAll(Exception error)
    {
        AsyncWaiter[] waiters;
        lock (_gate)
        {
            waiters = [.. _waiters];
        }

        foreach (var waiter in waiters)
        {
            waiter.TryFail(error);
        }
    }
}
