namespace SharedLog.Nats;

/// <summary>A point-in-time report of a bridge, for logs and monitoring.</summary>
/// <param name="State">Connected, reconnecting, ...</param>
/// <param name="Messages">Messages acknowledged: published and stored by JetStream (out), or appended and acknowledged (in).</param>
/// <param name="Duplicates">Publishes JetStream reported as duplicates of a stored message id (out), or redeliveries skipped because the log already held them (in).</param>
/// <param name="Gaps">Gap markers published (out) or received (in).</param>
/// <param name="LostRecords">Records covered by those gap markers.</param>
/// <param name="Position">Out: the log sequence after the last record acknowledged by JetStream. In: the stream sequence of the last message appended.</param>
/// <param name="Lag">Out: records in the log not yet acknowledged by JetStream. In: messages the consumer still has pending.</param>
/// <param name="InFlight">Publishes awaiting their acknowledgement (out).</param>
/// <param name="Reconnects">Times the bridge lost NATS and recovered.</param>
/// <param name="LastError">The last failure, or null.</param>
public sealed record BridgeStatus(
    BridgeState State,
    long Messages,
    long Duplicates,
    long Gaps,
    long LostRecords,
    long Position,
    long Lag,
    int InFlight,
    long Reconnects,
    string? LastError)
{
    /// <summary>One line, <c>key=value</c> pairs, for logs.</summary>
    public override string ToString() =>
        $"state={State.ToString().ToLowerInvariant()} messages={Messages} duplicates={Duplicates} gaps={Gaps} lost={LostRecords} " +
        $"position={Position} lag={Lag} inflight={InFlight} reconnects={Reconnects}" + (LastError is null ? "" : $" error=\"{LastError}\"");
}
