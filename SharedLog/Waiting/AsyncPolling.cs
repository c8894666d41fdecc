namespace SharedLog.Waiting;

/// <summary>Waits asynchronously for a condition by polling with growing pauses, without holding a thread.</summary>
internal static class AsyncPolling
{
    /// <summary>Completes true when <paramref name="probe"/> returns 1, false when it returns -1 (disposed).</summary>
    public static async ValueTask<bool> WaitAsync(Func<int> probe, CancellationToken cancellationToken)
    {
        int step = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int state = probe();
            if (state != 0)
            {
                return state > 0;
            }

            if (step++ < 16)
            {
                await Task.Yield();
            }
            else
            {
                await Task.Delay(1, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
