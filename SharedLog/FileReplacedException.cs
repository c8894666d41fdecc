namespace SharedLog;

/// <summary>
/// The file this reader reads was deleted, or deleted and created anew under the same name, while the reader had it
/// open: nothing more will ever be written to the file it maps. Open the name again to read the new file.
/// </summary>
public class FileReplacedException : SharedLogException
{
    /// <summary>Creates an exception with a default message.</summary>
    public FileReplacedException()
        : base("The file was deleted or replaced while it was open. Open it again by name.") { }

    /// <summary>Creates an exception with a message.</summary>
    public FileReplacedException(string message) : base(message) { }

    /// <summary>Creates an exception with a message and the error that caused it.</summary>
    public FileReplacedException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>True when no file exists under the name any more; false when another file took its place.</summary>
    public bool WasDeleted { get; init; }
}
