using SharedLog.Memory;

namespace SharedLog.Leases;

/// <summary>
/// One timer per process that refreshes the heartbeat of every lease and reader slot this process owns. The
/// heartbeat is only the fallback liveness signal (the pid check comes first), so a 1 s period costs nothing on the
/// data path.
/// </summary>
internal static unsafe class Heartbeat
{
    private const int PeriodMs = 1000;
    private static readonly object s_gate = new();
    private static readonly List<Registration> s_registrations = [];
    private static Timer? s_timer;

    /// <summary>Registers an owner block; the region reference is held until <see cref="Unregister"/>.</summary>
    public static object Register(MappedRegion region, long blockOffset, long ownerWord)
    {
        region.AddRef();
        var registration = new Registration(region, blockOffset, ownerWord);
        lock (s_gate)
        {
            s_registrations.Add(registration);
            s_timer ??= new Timer(static _ => BeatAll(), null, PeriodMs, PeriodMs);
        }

        return registration;
    }

    public static void Unregister(object token)
    {
        var registration = (Registration)token;
        bool removed;
        lock (s_gate)
        {
            removed = s_registrations.Remove(registration);
        }

        if (removed)
        {
            registration.Region.Release();
        }
    }

    private static void BeatAll()
    {
        lock (s_gate)
        {
            foreach (var registration in s_registrations)
            {
                byte* block = registration.Region.Base + registration.BlockOffset;
                if (OwnerBlock.IsOwnedBy(block, registration.OwnerWord))
                {
                    OwnerBlock.Beat(block);
                }
            }
        }
    }

    private sealed record Registration(MappedRegion Region, long BlockOffset, long OwnerWord);
}
