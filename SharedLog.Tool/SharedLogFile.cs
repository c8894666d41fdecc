namespace SharedLog.Tool;

/// <summary>An opened SharedLog file: a segmented log or a byte ring. Opening one takes no reader slot.</summary>
internal sealed class SharedLogFile : IDisposable
{
    private SharedLogFile(SegmentedLog? log, ByteRing? ring)
    {
        Log = log;
        Ring = ring;
    }

    /// <summary>The log, when the file is one.</summary>
    public SegmentedLog? Log { get; }

    /// <summary>The ring, when the file is one.</summary>
    public ByteRing? Ring { get; }

    /// <summary>"log" or "ring".</summary>
    public string Kind => Log is not null ? "log" : "ring";

    /// <summary>The backing file's path.</summary>
    public string FilePath => Log?.FilePath ?? Ring!.FilePath;

    /// <summary>Opens the file as the kind its header names (read first, without mapping it).</summary>
    /// <exception cref="ArgumentException">The name is not a valid SharedLog name.</exception>
    /// <exception cref="SharedLogException">The file does not exist, cannot be opened, or is not a SharedLog file.</exception>
    /// <param name="name">The file's name.</param>
    /// <param name="directory">Its directory, or null for the default.</param>
    /// <param name="readOnly">Map it without write access, for commands that only look (inspect, list, delete's check).</param>
    public static SharedLogFile Open(string name, string? directory, bool readOnly = false)
        => SharedLogFiles.Probe(name, directory).Kind switch
        {
            SharedLogFileKind.Log => new SharedLogFile(readOnly ? SegmentedLog.OpenReadOnly(name, directory) : SegmentedLog.Open(name, directory), null),
            _ => new SharedLogFile(null, readOnly ? ByteRing.OpenReadOnly(name, directory) : ByteRing.Open(name, directory)),
        };

    public void Dispose()
    {
        Log?.Dispose();
        Ring?.Dispose();
    }
}
