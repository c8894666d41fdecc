namespace SharedLog.Waiting;

/// <summary>What a waiter on a <see cref="Signal"/> waits for; implemented by readers and writers themselves, so a wait allocates no delegate.</summary>
internal interface ISignalCondition
{
    /// <summary>
    /// 1 when the condition holds (the wait ends true), 0 to keep waiting, -1 when the waiter or its structure was
    /// disposed (the wait ends false). Called from the waiting thread or from the process's dispatcher thread; it
    /// must not throw on disposal.
    /// </summary>
    int Probe();

    /// <summary>
    /// A cheap poll of what the other side publishes (a few loads, no clock, no system call): true when
    /// <see cref="Probe"/> may end the wait now. <see cref="Signal"/>'s waits spin on it between full probes; it runs
    /// only while the waiter is inside its handle's <see cref="WaitGate"/>, so the mapping stays in place. The default
    /// (true) makes every round a full probe.
    /// </summary>
    bool IsReady() => true;

    /// <summary>
    /// Starts the waiter's own timers of one wait (a reader's liveness and file checks), once per wait before its first
    /// full probe. <see cref="Signal"/>'s reader waits call it after a spinning strategy's first round found nothing
    /// (at once for a strategy that does not spin), so a wait that ends in that round reads no clock. The default
    /// does nothing.
    /// </summary>
    void StartTimers()
    {
    }
}
