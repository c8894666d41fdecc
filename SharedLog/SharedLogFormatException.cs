namespace SharedLog;

/// <summary>The file is not a valid or compatible SharedLog file (wrong magic, version, kind, size or a corrupt field).</summary>
public class SharedLogFormatException : SharedLogException
{
    /// <summary>Creates an exception with a default message.</summary>
    public SharedLogFormatException() : base("The file is not a valid SharedLog file.") { }

    /// <summary>Creates an exception with a message that names the file and the field that is wrong.</summary>
    public SharedLogFormatException(string message) : base(message) { }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    public SharedLogFormatException(string message, Exception innerException) : base(message, innerException) { }
}
