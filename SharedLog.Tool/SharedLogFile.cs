namespace SharedLog.Tool;

/// <summary>An opened SharedLog file: a segmented log or a byte ring. Opening one takes no reader slot.</summary>
internal sealed class SharedLogFile : IDisposable
{
    public SharedLogFile(SegmentedLog log) => Log = log;

    public SharedLogFile(ByteRing ring) => Ring = ring;

    /// <summary>The log, when the file is one.</summary>
    public SegmentedLog? Log { get; }

    /// <summary>The ring, when the file is one.</summary>
    public ByteRing? Ring { get; }

    /// <summary>"log" or "ring".</summary>
    public string Kind => Log is not null ? "log" : "ring";

    /// <summary>The backing file's path.</summary>
    public string FilePath => Log?.FilePath ?? Ring!.FilePath;

    public void Dispose()
    {
        Log?.Dispose();
        Ring?.Dispose();
    }
}
