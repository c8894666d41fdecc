using SharedLog.Files;

namespace SharedLog;

/// <summary>
/// The rules for where SharedLog files live and what they are called, and a look at a file's header without opening
/// it: for tools that list, inspect or clean up files of either kind.
/// </summary>
public static class SharedLogFiles
{
    /// <summary>Where files live when no directory is given: /dev/shm on Linux when it exists, the temp directory elsewhere.</summary>
    public static string DefaultDirectory => FileStore.DefaultDirectory;

    /// <summary>
    /// Whether <paramref name="name"/> is a valid log or ring name: 1 to 200 ASCII letters, digits, '.', '_' and '-',
    /// not starting with '.'. Create and Open throw <see cref="ArgumentException"/> for any other.
    /// </summary>
    public static bool IsValidName(string name) => name is not null && FileStore.NameError(name) is null;

    /// <summary>
    /// Reads the header of the file named <paramref name="name"/> with a plain read (no mapping, no reader slot,
    /// nothing written) and says whether it is a log or a ring. The header's identity is checked as Open checks it;
    /// the rest of the file is not, so Open can still reject a file that probes well.
    /// </summary>
    /// <param name="name">The structure's name (its file name).</param>
    /// <param name="directory">The directory; null for <see cref="DefaultDirectory"/>.</param>
    /// <exception cref="ArgumentException">The name or directory is invalid.</exception>
    /// <exception cref="SharedLogException">The file does not exist or cannot be read.</exception>
    /// <exception cref="SharedLogFormatException">The file is not a SharedLog file, or of a kind or layout version this library does not read.</exception>
    public static SharedLogFileInfo Probe(string name, string? directory = null)
    {
        string path = FileStore.ResolvePath(name, directory);
        var (kind, length) = FileHeader.Probe(path);
        return new SharedLogFileInfo(path, (SharedLogFileKind)kind, length);
    }
}
