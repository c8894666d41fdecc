using NATS.Client.Core;

namespace SharedLog.Nats;

/// <summary>The NATS connection both bridge directions use: reconnect forever with backoff, named after the log.</summary>
internal static class BridgeConnection
{
    /// <summary>A connection to <paramref name="url"/> named <c>sharedlog-bridge-{direction}:{logName}</c>.</summary>
    public static NatsConnection Open(string direction, string logName, string url, TimeSpan minBackoff, TimeSpan maxBackoff, TimeSpan requestTimeout)
        => new(new NatsOpts
        {
            Url = url,
            Name = $"sharedlog-bridge-{direction}:{logName}",
            MaxReconnectRetry = -1,
            ReconnectWaitMin = minBackoff,
            ReconnectWaitMax = maxBackoff,
            RetryOnInitialConnect = true,
            RequestTimeout = requestTimeout,
        });
}
