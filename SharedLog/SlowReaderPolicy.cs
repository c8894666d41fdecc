namespace SharedLog;

/// <summary>What the writer does when live readers pin all the space it could reuse.</summary>
public enum SlowReaderPolicy
{
    /// <summary>
    /// Wait for the slowest live reader up to the slow-reader timeout, then evict it. Nothing a live reader pins is
    /// overwritten before that.
    /// </summary>
    Block,

    /// <summary>Evict the slowest reader at once; the writer never waits. Evicted readers count what they lost.</summary>
    Evict,
}
