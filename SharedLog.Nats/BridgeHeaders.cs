namespace SharedLog.Nats;

/// <summary>
/// The NATS headers the bridge writes on every message it publishes, and reads back when it resumes or replays.
/// </summary>
public static class BridgeHeaders
{
    /// <summary>The record's sequence number in its log (decimal). On a gap marker: the last lost sequence.</summary>
    public const string Sequence = "SharedLog-Sequence";

    /// <summary>The record's type id (decimal).</summary>
    public const string TypeId = "SharedLog-Type";

    /// <summary>The log's identity, <c>NAME:INCARNATION</c>; the incarnation changes when the file is recreated.</summary>
    public const string Source = "SharedLog-Source";

    /// <summary>On a gap marker only: the first sequence lost (decimal).</summary>
    public const string GapFrom = "SharedLog-Gap-From";

    /// <summary>On a gap marker only: how many consecutive records were lost (decimal).</summary>
    public const string GapCount = "SharedLog-Gap-Count";

    /// <summary>JetStream's de-duplication header; the bridge sets it to <see cref="LogIdentity.MessageId"/>.</summary>
    public const string MessageId = "Nats-Msg-Id";
}
