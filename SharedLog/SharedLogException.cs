namespace SharedLog;

/// <summary>The base of every error specific to SharedLog.</summary>
public class SharedLogException : Exception
{
    /// <summary>Creates an exception with a default message.</summary>
    public SharedLogException() : base("A SharedLog operation failed.") { }

    /// <summary>Creates an exception with a message that says what is wrong and what to do.</summary>
    public SharedLogException(string message) : base(message) { }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    public SharedLogException(string message, Exception innerException) : base(message, innerException) { }
}
