namespace SharedLog;

/// <summary>
/// The writer process of a log or ring died without completing the stream, and this reader has read everything it
/// published. The reader stays usable: if another process claims the writer and continues, reading and waiting carry
/// on.
/// </summary>
public class WriterDiedException : SharedLogException
{
    /// <summary>Creates an exception with a default message.</summary>
    public WriterDiedException()
        : base("The writer died without completing the stream, and everything it published was read.") { }

    /// <summary>Creates an exception with a message.</summary>
    public WriterDiedException(string message) : base(message) { }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    public WriterDiedException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>The pid of the writer that died, when known.</summary>
    public int WriterProcessId { get; init; }
}
