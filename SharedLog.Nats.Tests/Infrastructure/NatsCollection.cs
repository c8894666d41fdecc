namespace SharedLog.Nats.Tests.Infrastructure;

/// <summary>
/// The bridge tests run one at a time: each starts its own nats-server and moves a lot of messages, and the figures
/// they print would otherwise measure each other.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NatsCollection
{
    public const string Name = "NATS bridge (one server at a time)";
}
