using System.Runtime.CompilerServices;

namespace SharedLog.Diagnostics;

/// <summary>
/// The <see cref="SegmentedLog"/> and <see cref="ByteRing"/> handles open in this process, for the metrics to read
/// when a listener collects them.
/// </summary>
/// <remarks>
/// Design: explicit registration, weakly held. A handle registers at the end of its constructor and unregisters in
/// Dispose (through <see cref="OpenHandles"/>, so the log and the ring do not import this folder). The registry holds
/// each handle through a <see cref="WeakReference{T}"/>, so a handle that is forgotten without Dispose is still
/// collected; its entry is dropped at the next collection or registration. Registering takes a lock and adds to a
/// list: open and dispose pay that, appends and reads pay nothing.
/// </remarks>
internal sealed class HandleRegistry : IOpenHandleObserver
{
    private static readonly HandleRegistry s_instance = new();
    private readonly Lock _lock = new();
    private readonly List<WeakReference<IDisposable>> _handles = [];

    private HandleRegistry()
    {
    }

    /// <summary>The handles open now (collected or disposed ones left out), in the order they opened.</summary>
    public static List<IDisposable> Live()
    {
        var registry = s_instance;
        var live = new List<IDisposable>();
        lock (registry._lock)
        {
            registry._handles.RemoveAll(w => !w.TryGetTarget(out _));
            foreach (var weak in registry._handles)
            {
                if (weak.TryGetTarget(out var handle))
                {
                    live.Add(handle);
                }
            }
        }

        return live;
    }

    /// <summary>Installs the registry as the handles' observer when the library loads, before any handle can open.</summary>
#pragma warning disable CA2255 // A library module initializer on purpose: the hook must be in place before the first handle opens, and no public entry point runs first.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Install() => OpenHandles.Observe(s_instance);

    /// <inheritdoc/>
    public void Opened(IDisposable handle)
    {
        // The meter exists from the first handle on, so a listener that attaches later finds it.
        SharedLogMeter.EnsureCreated();
        lock (_lock)
        {
            _handles.RemoveAll(w => !w.TryGetTarget(out _));
            _handles.Add(new WeakReference<IDisposable>(handle));
        }
    }

    /// <inheritdoc/>
    public void Closed(IDisposable handle)
    {
        lock (_lock)
        {
            _handles.RemoveAll(w => !w.TryGetTarget(out var target) || ReferenceEquals(target, handle));
        }
    }
}
