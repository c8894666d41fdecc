using System.Runtime.ExceptionServices;

namespace SharedLog.Tests.Infrastructure;

/// <summary>A thread whose failure is rethrown by <see cref="Join"/> on the test's thread instead of ending the process.</summary>
public sealed class BackgroundThread
{
    private readonly Thread _thread;
    private ExceptionDispatchInfo? _failure;

    private BackgroundThread(Action body)
    {
        _thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                _failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        { IsBackground = true };
    }

    public bool IsAlive => _thread.IsAlive;

    public static BackgroundThread Start(Action body)
    {
        var thread = new BackgroundThread(body);
        thread._thread.Start();
        return thread;
    }

    /// <summary>Waits for the thread and rethrows what it threw.</summary>
    public void Join(TimeSpan timeout)
    {
        if (!_thread.Join(timeout))
        {
            throw new TimeoutException("A background thread of the test did not finish in time.");
        }

        _failure?.Throw();
    }
}
