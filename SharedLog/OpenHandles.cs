namespace SharedLog;

/// <summary>
/// The hook through which <see cref="SegmentedLog"/> and <see cref="ByteRing"/> handles announce that they opened and
/// closed, for an observer above them (the metrics in <c>Diagnostics/</c>) that the log and the ring must not import.
/// </summary>
/// <remarks>
/// Design: the observer installs itself once, before the first handle opens (a module initializer); handles call
/// <see cref="Opened"/> at the end of their constructor and <see cref="Closed"/> first thing in Dispose. Neither is on a
/// hot path. With no observer installed both are a null check.
/// </remarks>
internal static class OpenHandles
{
    private static IOpenHandleObserver? s_observer;

    /// <summary>Installs the observer; a later call replaces it.</summary>
    public static void Observe(IOpenHandleObserver observer) => Volatile.Write(ref s_observer, observer);

    /// <summary>A handle finished opening.</summary>
    public static void Opened(IDisposable handle) => Volatile.Read(ref s_observer)?.Opened(handle);

    /// <summary>A handle is being disposed.</summary>
    public static void Closed(IDisposable handle) => Volatile.Read(ref s_observer)?.Closed(handle);
}

/// <summary>Told when handles open and close (see <see cref="OpenHandles"/>).</summary>
internal interface IOpenHandleObserver
{
    /// <summary>A handle finished opening. The observer must not keep it alive.</summary>
    void Opened(IDisposable handle);

    /// <summary>A handle is being disposed.</summary>
    void Closed(IDisposable handle);
}
