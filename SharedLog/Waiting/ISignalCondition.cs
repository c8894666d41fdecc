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
}
