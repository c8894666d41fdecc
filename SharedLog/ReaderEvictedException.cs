namespace SharedLog;

/// <summary>
/// A snapshot's segments were reused by the writer under <see cref="SlowReaderPolicy.Evict"/> (or after the
/// <see cref="SegmentedLogOptions.SlowReaderTimeout"/> under <see cref="SlowReaderPolicy.Block"/>).
/// Call <see cref="LogSnapshot.Refresh"/> to continue from what is retained now.
/// </summary>
public class ReaderEvictedException : SharedLogException
{
    /// <summary>Creates an exception with a default message.</summary>
    public ReaderEvictedException()
        : base("The snapshot was evicted: the writer reused segments it pinned. Call Refresh() to continue from the retained window.") { }

    /// <summary>Creates an exception with a message.</summary>
    public ReaderEvictedException(string message) : base(message) { }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    public ReaderEvictedException(string message, Exception innerException) : base(message, innerException) { }
}
