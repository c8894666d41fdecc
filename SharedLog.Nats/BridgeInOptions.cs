namespace SharedLog.Nats;

/// <summary>Settings of a <see cref="BridgeIn"/>.</summary>
public sealed class BridgeInOptions
{
    /// <summary>The JetStream stream to replay (required).</summary>
    public required string Stream { get; init; }

    /// <summary>The local log to append to (required); opened, or created with <see cref="LogOptions"/>.</summary>
    public required string LogName { get; init; }

    /// <summary>Options for creating the log when it does not exist (their <c>Directory</c> also locates an existing one).</summary>
    public SegmentedLogOptions? LogOptions { get; init; }

    /// <summary>The NATS server, e.g. <c>nats://127.0.0.1:4222</c>.</summary>
    public string Url { get; init; } = "nats://127.0.0.1:4222";

    /// <summary>The durable consumer's name; null for <c>sharedlog-in-NAME</c> (dots as underscores).</summary>
    public string? Consumer { get; init; }

    /// <summary>Only messages on subjects matching this filter; null for the whole stream.</summary>
    public string? FilterSubject { get; init; }

    /// <summary>The first stream sequence to replay, when neither the log nor the consumer says where to resume.</summary>
    public ulong? StartSequence { get; init; }

    /// <summary>Replay from this time, when neither the log nor the consumer says where to resume (and no start sequence is set).</summary>
    public DateTimeOffset? StartTime { get; init; }

    /// <summary>Messages fetched, appended and acknowledged together at most.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>The first wait after a failure; it doubles up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between recovery attempts.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a JetStream API call may wait for its reply.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    internal string ConsumerName => Consumer ?? "sharedlog-in-" + LogName.Replace('.', '_');
}
