namespace SharedLog.Nats;

/// <summary>Where a bridge is in its life.</summary>
public enum BridgeState
{
    /// <summary>Not running yet, or connecting for the first time.</summary>
    Connecting,

    /// <summary>Connected: publishing (out) or consuming (in).</summary>
    Connected,

    /// <summary>NATS failed or went away: waiting with backoff, then resuming.</summary>
    Reconnecting,

    /// <summary>Stopped (cancelled, or the log's writer completed it).</summary>
    Stopped,
}
