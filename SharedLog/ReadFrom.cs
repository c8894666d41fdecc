namespace SharedLog;

/// <summary>Where a new reader starts.</summary>
public enum ReadFrom
{
    /// <summary>At the oldest record (or byte) still retained.</summary>
    Oldest,

    /// <summary>At the next record (or byte) written after the reader is created.</summary>
    Latest,
}
