namespace SharedLog.Waiting;

/// <summary>
/// Spin, then yield, then sleep with growing pauses (capped at 1 ms). Each step returns to managed code, so a long
/// wait never holds up a garbage collection.
/// </summary>
internal struct Backoff
{
    private const int SpinSteps = 64;
    private const int YieldSteps = 64;
    private int _step;

    public void Reset() => _step = 0;

    public void Pause()
    {
        int step = _step++;
        if (step < SpinSteps)
        {
            Thread.SpinWait(1 << Math.Min(step >> 3, 6));
        }
        else if (step < SpinSteps + YieldSteps)
        {
            Thread.Yield();
        }
        else
        {
            Thread.Sleep(step < SpinSteps + YieldSteps + 16 ? 0 : 1);
        }
    }
}
