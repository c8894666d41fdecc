using System.Diagnostics;
using System.Runtime.CompilerServices;
using SharedLog.Memory;
using SharedLog.Platform;

namespace SharedLog.Waiting;

/// <summary>
/// A wake-up channel in a mapped file: a 32-bit futex word and a need-wakeup flag, each pair on its own line of the
/// header. Waiters (readers waiting for data, the writer waiting for space) sleep on the word; the side that makes
/// progress wakes them, and pays only one load while nobody sleeps (plus a full fence in a process without
/// asymmetric fences).
/// </summary>
/// <remarks>
/// Design (the need-wakeup handshake, as io_uring's SQ thread does it):
/// <list type="bullet">
/// <item>Waiter: read the word (V); exchange the flag to 1 (a full fence); re-check the condition; if it still
/// does not hold, sleep while the word equals V (FUTEX_WAIT, bounded slices).</item>
/// <item>Notifier: make the condition true with a release store; full fence; load the flag; only if it is set,
/// exchange it to 0 and, if it was 1, bump the word and FUTEX_WAKE every sleeper.</item>
/// </list>
/// The two fences form a Dekker handshake: either the notifier sees the flag, or the waiter's re-check sees the
/// new state. Where the process registered for asymmetric fences (Linux 4.16+, see <see cref="AsymmetricFence"/>),
/// the notifier's fence moves to the waiter: after setting the flag it calls <c>membarrier</c>, which runs a full
/// fence in every registered process's running threads, so the frequent side (an append) pays one plain load. A notifier that sees the flag bumps the word after the waiter read V, so the waiter either fails
/// FUTEX_WAIT's compare (EAGAIN) or is already queued and woken. No wake-up is lost. The flag, not a count, marks
/// sleepers: a waiter killed while asleep leaves it set, and the next notify clears it (one spurious wake), so a
/// crash never leaves the notifier paying a system call per operation. Several waiters share the flag; every wake
/// wakes them all and those still unsatisfied set it again.
/// <see cref="Kick"/> bumps the word and wakes everyone without a state change: waiters re-check (disposal,
/// cancellation, an earlier deadline) and sleep again.
/// </remarks>
internal sealed unsafe class Signal
{
    /// <summary>Spin pauses (about 30 ns each) between two full probes of a spinning wait; it bounds how late a deadline, cancellation or disposal is seen: about 2 µs.</summary>
    private const int SpinsPerProbe = 64;

    private readonly MappedRegion _region;
    private readonly int* _word;
    private readonly int* _needWake;
    private SignalDispatcher? _dispatcher;
    private int _localWaiters;
    private long _wakeCount;

    /// <summary>A signal over the word at <paramref name="wordOffset"/> and the flag at <paramref name="flagOffset"/>.</summary>
    public Signal(MappedRegion region, int wordOffset, int flagOffset)
    {
        _region = region;
        _word = (int*)region.At(wordOffset, sizeof(int));
        _needWake = (int*)region.At(flagOffset, sizeof(int));

        // Registers the process for asymmetric fences now, when it opens a file, not at its first notify: the hot paths
        // are compiled fully optimised at their first call, and the JIT folds a static readonly field into a constant
        // (no class-initialisation check, no load, no fence branch in Notify) only when its class is initialised by then.
        // The same for the futex probe, which the waits' spin loops read.
        _ = AsymmetricFence.IsEnabled;
        _ = Futex.IsSupported;
    }

    internal MappedRegion Region => _region;

    /// <summary>How many times this process cleared the flag and woke sleepers (diagnostics and tests).</summary>
    internal long WakeCount => Interlocked.Read(ref _wakeCount);

    /// <summary>Whether the need-wakeup flag is set now (diagnostics and tests).</summary>
    internal bool NeedsWake => Atomic.ReadAcquire(_needWake) != 0;

    /// <summary>The dispatcher of this process's async waiters on this signal, created on first use.</summary>
    internal SignalDispatcher Dispatcher
    {
        get
        {
            var dispatcher = Volatile.Read(ref _dispatcher);
            return dispatcher ?? Interlocked.CompareExchange(ref _dispatcher, new SignalDispatcher(this), null) ?? _dispatcher!;
        }
    }

    /// <summary>
    /// Called after the release store that may satisfy waiters (a published record, a moved pin). Costs one load while
    /// nobody sleeps: no fence where the process registered for asymmetric fences (the sleeper pays with a
    /// <c>membarrier</c>, see <see cref="AsymmetricFence"/>), a full fence and a load otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Notify()
    {
        if (!AsymmetricFence.IsEnabled)
        {
            // Full fence: the caller's release store is ordered before the flag load; pairs with the exchange in
            // PrepareSleep (set flag, fence, re-check), so either we see the flag or the waiter sees the store.
            Atomic.FullFence();
        }

        // Otherwise the fence is the waiter's membarrier in PrepareSleep, which runs one in this thread's stream.
        if (Atomic.ReadAcquire(_needWake) != 0)
        {
            Wake();
        }
    }

    /// <summary>Wakes the sleepers if the flag says there are any; clears the flag.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Wake()
    {
        if (Interlocked.Exchange(ref *_needWake, 0) != 0)
        {
            // Bump after clearing: a waiter that read the word before setting the flag fails its compare or is woken.
            Interlocked.Increment(ref *_word);
            Futex.WakeAll(_word);
            Interlocked.Increment(ref _wakeCount);
        }
    }

    /// <summary>Makes every sleeper on the word (in every process) re-check its condition, whatever the flag says.</summary>
    public void Kick()
    {
        Interlocked.Increment(ref *_word);
        Futex.WakeAll(_word);
    }

    /// <summary>Kicks only when this process has a waiter on this signal (a sync wait or the dispatcher): used on disposal.</summary>
    public void KickLocalWaiters()
    {
        if (Volatile.Read(ref _localWaiters) != 0)
        {
            Kick();
        }
    }

    /// <summary>
    /// Announces a sleeper: reads the word, then sets the need-wakeup flag with a full fence. The caller then
    /// re-checks its condition and, if it still does not hold, calls <see cref="Sleep"/> with the returned value.
    /// </summary>
    public int PrepareSleep()
    {
        // Acquire: the value to sleep on is read before the flag is set and before the caller's re-check.
        int value = Atomic.ReadAcquire(_word);
        if (Futex.IsSupported)
        {
            // Full fence (exchange): the flag is visible before the re-check; pairs with the full fence in Notify.
            Interlocked.Exchange(ref *_needWake, 1);

            // Notifiers in registered processes skip their fence: this barrier puts one in their instruction streams
            // between the flag store above and the caller's re-check (see AsymmetricFence).
            AsymmetricFence.Barrier();
        }

        return value;
    }

    /// <summary>Sleeps while the word equals <paramref name="value"/>, until <paramref name="deadline"/> (Stopwatch ticks) or one slice at most.</summary>
    public void Sleep(int value, long deadline)
        => Futex.Wait(_word, value, deadline == long.MaxValue ? long.MaxValue : deadline - Stopwatch.GetTimestamp());

    /// <summary>
    /// A reader's wait: until <paramref name="condition"/> holds (true), the waiter is closed or
    /// <paramref name="timeout"/> passes (false), idling by <paramref name="idler"/> (the reader's strategy, yielding
    /// where it would spin while readers crowd the cores). The deadline and the condition's
    /// own timers (<see cref="ISignalCondition.StartTimers"/>) start only after a spinning strategy's first round finds nothing.
    /// </summary>
    /// <remarks>
    /// The caller has just found nothing, and what a spinning reader waits for often comes within a few pauses (the
    /// other side of a round trip is already answering). Reading the clocks first would put about 40 ns of clock reads
    /// between the caller's last look and its first poll. So the first round polls only the cheap check, and a wait
    /// that ends there reads no clock at all; the timeout then counts from the end of that round, at most
    /// <see cref="SpinsPerProbe"/> pauses (about 2 µs) late.
    /// </remarks>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Wait<TCondition>(TCondition condition, Idler idler, TimeSpan timeout, CancellationToken cancellationToken)
        where TCondition : ISignalCondition
    {
        if (timeout != TimeSpan.Zero && SpinFirst(ref idler, condition))
        {
            return condition.Probe() > 0;
        }

        long deadline = WaitDeadline.From(timeout);
        condition.StartTimers();
        return Wait(condition, ref idler, deadline, cancellationToken);
    }

    /// <summary>
    /// Waits synchronously until <paramref name="condition"/> holds (true), the waiter is closed or the deadline
    /// (Stopwatch ticks, <see cref="long.MaxValue"/> for none) passes (false), idling by <paramref name="idler"/>.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Wait(ISignalCondition condition, Idler idler, long deadline, CancellationToken cancellationToken)
    {
        SpinFirst(ref idler, condition);
        return Wait(condition, ref idler, deadline, cancellationToken);
    }

    /// <summary>
    /// The first round of a spinning wait: the caller has just found nothing, and what a spinning waiter waits for
    /// often comes within a few pauses, so it polls the cheap check before the full probe (with its clock reads).
    /// True when the check said ready; false at once when the strategy does not spin now.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool SpinFirst<TCondition>(ref Idler idler, TCondition condition)
        where TCondition : ISignalCondition
        => idler.IsSpinning && !idler.ShouldBlock && SpinUntilReady(ref idler, condition);

    /// <summary>The waiting loop after the first round: a full probe, then a round of spinning, a yield or a sleep.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Wait<TCondition>(TCondition condition, ref Idler idler, long deadline, CancellationToken cancellationToken)
        where TCondition : ISignalCondition
    {
        bool sleeping = false;
        CancellationTokenRegistration registration = default;
        try
        {
            while (true)
            {
                int state = condition.Probe();
                if (state != 0)
                {
                    return state > 0;
                }

                cancellationToken.ThrowIfCancellationRequested();

                // Each round is one full probe: up to SpinsPerProbe pauses while spinning, one yield or sleep otherwise.
                if (deadline != long.MaxValue && Stopwatch.GetTimestamp() >= deadline)
                {
                    return false;
                }

                if (!idler.ShouldBlock)
                {
                    SpinUntilReady(ref idler, condition);
                    continue;
                }

                if (!sleeping)
                {
                    sleeping = true;
                    Interlocked.Increment(ref _localWaiters);
                    if (cancellationToken.CanBeCanceled)
                    {
                        registration = cancellationToken.UnsafeRegister(static state => ((Signal)state!).Kick(), this);
                    }
                }

                int value = PrepareSleep();
                state = condition.Probe();
                if (state != 0)
                {
                    return state > 0;
                }

                if (!cancellationToken.IsCancellationRequested)
                {
                    Sleep(value, deadline);
                }
            }
        }
        finally
        {
            if (sleeping)
            {
                registration.Dispose();
                Interlocked.Decrement(ref _localWaiters);
            }
        }
    }

    /// <summary>
    /// One round of the spin phase: pauses until the cheap check says ready, at most <see cref="SpinsPerProbe"/> times
    /// (or one pause when the strategy does not spin now); true when it said ready. Between full probes (disposal,
    /// completion, the writer's liveness, the clock) a spinning waiter polls only that check, so it notices data within
    /// one pause and the full probe's loads and clock reads stay off the path from publication to wake-up.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool SpinUntilReady<TCondition>(ref Idler idler, TCondition condition)
        where TCondition : ISignalCondition
    {
        int spins = SpinsPerProbe;
        do
        {
            idler.Pause();
            if (condition.IsReady())
            {
                return true;
            }
        }
        while (--spins > 0 && idler.IsSpinning);
        return false;
    }

    /// <summary>
    /// Waits asynchronously through this process's dispatcher thread, without holding a thread per waiter. The
    /// caller has probed once already; <paramref name="waiter"/> is the caller's reusable completion source.
    /// </summary>
    public ValueTask<bool> WaitAsync(AsyncWaiter waiter, long deadline, CancellationToken cancellationToken)
        => waiter.Start(Dispatcher, deadline, cancellationToken);

    /// <summary>The dispatcher counts as one local waiter while it has waiters.</summary>
    internal void AddLocalWaiter(int delta) => Interlocked.Add(ref _localWaiters, delta);
}
