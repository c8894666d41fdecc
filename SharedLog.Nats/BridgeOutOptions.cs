namespace SharedLog.Nats;

/// <summary>Settings of a <see cref="BridgeOut"/>.</summary>
public sealed class BridgeOutOptions
{
    /// <summary>The log to bridge (required).</summary>
    public required string LogName { get; init; }

    /// <summary>The log's directory; null for the library default.</summary>
    public string? LogDirectory { get; init; }

    /// <summary>The NATS server, e.g. <c>nats://127.0.0.1:4222</c>.</summary>
    public string Url { get; init; } = "nats://127.0.0.1:4222";

    /// <summary>The JetStream stream; null for <c>SHAREDLOG_NAME</c> (the log name in capitals, dots as underscores).</summary>
    public string? Stream { get; init; }

    /// <summary>The subject template (see <see cref="Nats.SubjectTemplate"/>).</summary>
    public string SubjectTemplate { get; init; } = Nats.SubjectTemplate.Default;

    /// <summary>Create the stream (file storage, subjects = the template's filter) when it does not exist.</summary>
    public bool CreateStream { get; init; } = true;

    /// <summary>The duplicate window of a stream the bridge creates.</summary>
    public TimeSpan DuplicateWindow { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Where to start when the stream holds nothing from this log's incarnation yet.</summary>
    public ReadFrom StartFrom { get; init; } = ReadFrom.Oldest;

    /// <summary>Publishes in flight (sent, not yet acknowledged) at most.</summary>
    public int MaxInFlight { get; init; } = 4096;

    /// <summary>The first wait after a failure; it doubles up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between recovery attempts.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a publish or a JetStream API call may wait for its reply.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How the bridge's log reader idles; null for the library default.</summary>
    public IdleStrategy? IdleStrategy { get; init; }

    internal string StreamName => Stream ?? DefaultStreamName(LogName);

    /// <summary>The default stream name for a log: <c>SHAREDLOG_</c> + the name in capitals with dots as underscores.</summary>
    public static string DefaultStreamName(string logName)
    {
        ArgumentException.ThrowIfNullOrEmpty(logName);
        return "SHAREDLOG_" + logName.ToUpperInvariant().Replace('.', '_');
    }
}
