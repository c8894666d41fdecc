using System.Globalization;
using SharedLog.Memory;
using SharedLog.Platform;

namespace SharedLog.Files;

/// <summary>
/// Names, creates, opens and deletes SharedLog files: the one factory under the log and the ring.
/// </summary>
/// <remarks>
/// Design: files are created under a temporary name (<c>.NAME.PID.GUID.tmp</c>), sized with <c>posix_fallocate</c>
/// (so a full tmpfs fails at creation, never with SIGBUS later), initialised, and only then linked under their real
/// name, so an opener never sees a half-initialised header. A creator killed before the link leaves only its
/// temporary, which the next create or delete of the same name removes once its pid is dead. Temporaries are
/// matched exactly (pid, then a 32-digit GUID), so those of another file whose name extends this one
/// (<c>NAME.123</c>) are never taken for ours.
/// </remarks>
internal static class FileStore
{
    private const string TemporarySuffix = ".tmp";
    private const int GuidLength = 32;

    /// <summary>The default directory: /dev/shm on Linux when it exists, the temp directory elsewhere.</summary>
    public static string DefaultDirectory
        => OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

    /// <summary>Validates a structure name (1 to 200 of letters, digits, '.', '_' and '-', not starting with '.') and returns its path.</summary>
    public static string ResolvePath(string name, string? directory)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (NameError(name) is { } error)
        {
            throw new ArgumentException(error, nameof(name));
        }

        if (directory is not null && directory.Length == 0)
        {
            throw new ArgumentException("The directory must not be empty; pass null for the default.", nameof(directory));
        }

        return Path.Combine(directory ?? DefaultDirectory, name);
    }

    /// <summary>Why <paramref name="name"/> is not a valid structure name, or null when it is one.</summary>
    public static string? NameError(string name)
    {
        if (name.Length is 0 or > 200)
        {
            return $"The name must be 1 to 200 characters long; got {name.Length}.";
        }

        if (name[0] == '.')
        {
            return $"The name '{name}' must not start with '.'.";
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return $"The name '{name}' may contain only ASCII letters, digits, '.', '_' and '-'; '{c}' is not allowed.";
            }
        }

        return null;
    }

    /// <summary>
    /// Reads the first bytes of an existing file into <paramref name="header"/> with a plain read (no mapping, read
    /// only) and returns the file's length; the errors are those of <see cref="Open"/>.
    /// </summary>
    /// <exception cref="SharedLogException">The file does not exist or cannot be read.</exception>
    /// <exception cref="SharedLogFormatException">The file is not a regular file, or shorter than <paramref name="minimumLength"/>.</exception>
    public static long ReadHeader(string path, Span<byte> header, int minimumLength)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
            if (!stream.CanSeek)
            {
                throw new SharedLogFormatException($"'{path}' is not a regular file, so it is not a SharedLog file.");
            }

            long length = stream.Length;
            if (length < minimumLength)
            {
                throw new SharedLogFormatException(
                    $"'{path}' is {length} bytes long, shorter than a SharedLog header ({minimumLength} bytes): it is truncated or not a SharedLog file.");
            }

            stream.ReadExactly(header);
            return length;
        }
        catch (FileNotFoundException e)
        {
            throw new SharedLogException($"'{path}' does not exist. Check the name and directory, or Create it first.", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new SharedLogException($"The directory of '{path}' does not exist. Check the directory.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new SharedLogException($"'{path}' cannot be opened for reading: {e.Message}", e);
        }
        catch (EndOfStreamException e)
        {
            throw new SharedLogFormatException($"'{path}' shrank while its header was read: it is being truncated or is not a SharedLog file.", e);
        }
        catch (IOException e)
        {
            throw new SharedLogException($"'{path}' cannot be read: {e.Message}", e);
        }
    }

    /// <summary>Creates, sizes, initialises and then atomically publishes a new file.</summary>
    public static MappedRegion Create(string path, long length, UnixFileMode permissions, Action<MappedRegion> initialise)
    {
        CheckPermissions(permissions);
        string directory = Path.GetDirectoryName(path)!;
        string name = Path.GetFileName(path);
        if (!Directory.Exists(directory))
        {
            throw new SharedLogException($"The directory '{directory}' does not exist. Create it or pass another directory.");
        }

        if (File.Exists(path))
        {
            throw new SharedLogException($"'{path}' already exists. Open it, or Delete it first to start afresh.");
        }

        RemoveStaleTemporaries(directory, name);
        string temporary = Path.Combine(directory,
            "." + name + "." + ProcessIdentity.Pid.ToString(CultureInfo.InvariantCulture) + "." + Guid.NewGuid().ToString("N") + TemporarySuffix);
        MappedRegion? region = null;
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.ReadWrite,
                Share = FileShare.ReadWrite | FileShare.Delete,
                PreallocationSize = length,
            };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            FileStream stream;
            try
            {
                stream = new FileStream(temporary, options);
            }
            catch (IOException e)
            {
                throw new SharedLogException(
                    $"Cannot reserve {length} bytes for '{path}': {e.Message} Free space in '{directory}' or choose smaller options.", e);
            }

            if (!OperatingSystem.IsWindows() && permissions != (UnixFileMode.UserRead | UnixFileMode.UserWrite))
            {
                // Exactly as asked: the create mode above went through the umask, this does not.
                File.SetUnixFileMode(temporary, permissions);
            }

            region = MappedRegion.Map(path, stream, length, created: true);
            initialise(region);
            try
            {
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException e) when (File.Exists(path))
            {
                throw new SharedLogException($"'{path}' was created by another process at the same time. Open it instead.", e);
            }

            return region;
        }
        catch
        {
            region?.Release();
            try
            {
                File.Delete(temporary);
            }
            catch (IOException)
            {
            }

            throw;
        }
    }

    /// <summary>Maps an existing file. The caller validates the header before any pointer escapes.</summary>
    public static MappedRegion Open(string path, int minimumLength, bool readOnly = false)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, readOnly ? FileAccess.Read : FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException e)
        {
            throw new SharedLogException($"'{path}' does not exist. Check the name and directory, or Create it first.", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new SharedLogException($"The directory of '{path}' does not exist. Check the directory.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new SharedLogException(readOnly
                ? $"'{path}' cannot be opened for reading: {e.Message}"
                : $"'{path}' cannot be opened for reading and writing: {e.Message} Files are created owner-only; open it as the user that created it, create it with group Permissions, or open it read-only to inspect it.", e);
        }
        catch (IOException e)
        {
            throw new SharedLogException($"'{path}' cannot be opened: {e.Message}", e);
        }

        // A FIFO cannot be mapped and has no length to check (devices report length 0 and fail the check below).
        if (!stream.CanSeek)
        {
            stream.Dispose();
            throw new SharedLogFormatException($"'{path}' is not a regular file, so it is not a SharedLog file.");
        }

        long length = stream.Length;
        if (length < minimumLength)
        {
            stream.Dispose();
            throw new SharedLogFormatException(
                $"'{path}' is {length} bytes long, shorter than a SharedLog header ({minimumLength} bytes): it is truncated or not a SharedLog file.");
        }

        return MappedRegion.Map(path, stream, length, created: false, readOnly);
    }

    /// <summary>
    /// Opens the file, waiting up to <paramref name="timeout"/> for it to be created (for readers that start before
    /// the writer). Polls the name every 10 ms at first, backing off to 100 ms.
    /// </summary>
    /// <exception cref="SharedLogException">The file did not appear in time.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static T OpenWhenCreated<T>(string path, Func<T> open, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), "The timeout must not be negative, or Timeout.InfiniteTimeSpan.");
        }

        long start = Environment.TickCount64;
        int delayMs = 10;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return open();
            }
            catch (SharedLogException e) when (e.InnerException is FileNotFoundException)
            {
                // Not there yet (checked by the error, not by looking again: the file may appear in between).
            }

            long elapsed = Environment.TickCount64 - start;
            if (timeout != Timeout.InfiniteTimeSpan && elapsed >= (long)timeout.TotalMilliseconds)
            {
                throw new SharedLogException($"'{path}' did not appear within {timeout.TotalSeconds:0.###} s. Start the writer, or check the name and directory.");
            }

            long remaining = timeout == Timeout.InfiniteTimeSpan ? delayMs : Math.Min(delayMs, (long)timeout.TotalMilliseconds - elapsed);
            cancellationToken.WaitHandle.WaitOne((int)Math.Max(1, remaining));
            delayMs = Math.Min(100, delayMs * 2);
        }
    }

    /// <summary>Opens the file if it exists, or creates it; racing creators settle on one file.</summary>
    public static T OpenOrCreate<T>(string path, Func<T> open, Func<T> create)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return open();
            }
            catch (SharedLogException) when (attempt < 3 && !File.Exists(path))
            {
            }

            try
            {
                return create();
            }
            catch (SharedLogException) when (attempt < 3 && File.Exists(path))
            {
            }
        }
    }

    /// <summary>Deletes the file; processes that have it open keep their mapping. False if there was none.</summary>
    public static bool Delete(string path)
    {
        // A creator killed inside File.Move (link, then unlink) leaves its temporary as a second link to the file:
        // remove it too, or the tmpfs space stays in use after the delete.
        RemoveStaleTemporaries(Path.GetDirectoryName(path)!, Path.GetFileName(path));
        try
        {
            if (!File.Exists(path))
            {
                return false;
            }

            File.Delete(path);
            return true;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether the file now at <paramref name="path"/> is the one with <paramref name="fileId"/> (read from its header
    /// with a plain read, no mapping). <paramref name="deleted"/> tells a missing file from a different one. A file
    /// without an id (made before ids existed) counts as the same while it exists.
    /// </summary>
    public static bool IsSameFile(string path, long fileId, out bool deleted)
    {
        deleted = false;
        Span<byte> header = stackalloc byte[Layout.FileLayout.LineLength];
        if (FilePrefix.IsSupported && FilePrefix.Fits(path))
        {
            // Without allocating: a waiting reader makes this check once a second.
            int read = FilePrefix.Read(path, header);
            if (read is -FilePrefix.ENOENT or -FilePrefix.ENOTDIR)
            {
                deleted = true;
                return false;
            }

            if (read < 0)
            {
                // Unreadable for a moment, or not ours to read: no evidence either way.
                return true;
            }

            return read == header.Length
                && (fileId == 0 || System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(header[Layout.FileLayout.FileIdOffset..]) == fileId);
        }

        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (RandomAccess.Read(handle, header, 0) < header.Length)
            {
                return false;
            }
        }
        catch (FileNotFoundException)
        {
            deleted = true;
            return false;
        }
        catch (DirectoryNotFoundException)
        {
            deleted = true;
            return false;
        }
        catch (IOException)
        {
            // Unreadable for a moment (another process mid-create, say): no evidence either way.
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }

        return fileId == 0 || System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(header[Layout.FileLayout.FileIdOffset..]) == fileId;
    }

    /// <summary>Refuses permissions that would let the owner lock itself out, the world write, or anything execute.</summary>
    public static void CheckPermissions(UnixFileMode permissions)
    {
        const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        const UnixFileMode Allowed = OwnerReadWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead;
        if ((permissions & OwnerReadWrite) != OwnerReadWrite || (permissions & ~Allowed) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(permissions),
                $"Permissions {permissions} are not allowed: they must include owner read and write and may add group read, group write and other read; never other write or execute bits.");
        }
    }

    /// <summary>The pid that made <paramref name="fileName"/> if it is a temporary of <paramref name="name"/> (exactly <c>.NAME.PID.GUID.tmp</c>), else 0.</summary>
    internal static int TemporaryCreator(string fileName, string name)
    {
        // ".NAME." + digits + "." + 32 hex digits + ".tmp"
        int prefix = name.Length + 2;
        if (fileName.Length <= prefix + GuidLength + TemporarySuffix.Length + 1
            || fileName[0] != '.' || string.CompareOrdinal(fileName, 1, name, 0, name.Length) != 0 || fileName[prefix - 1] != '.'
            || !fileName.EndsWith(TemporarySuffix, StringComparison.Ordinal))
        {
            return 0;
        }

        ReadOnlySpan<char> middle = fileName.AsSpan(prefix, fileName.Length - prefix - TemporarySuffix.Length);
        int dot = middle.IndexOf('.');
        if (dot <= 0 || middle.Length - dot - 1 != GuidLength)
        {
            return 0;
        }

        foreach (char c in middle[(dot + 1)..])
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return 0;
            }
        }

        return int.TryParse(middle[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0 ? pid : 0;
    }

    private static void RemoveStaleTemporaries(string directory, string name)
    {
        try
        {
            foreach (string file in Directory.EnumerateFiles(directory, "." + name + ".*" + TemporarySuffix))
            {
                int pid = TemporaryCreator(Path.GetFileName(file), name);
                if (pid != 0 && ProcessIdentity.Check(pid, 0, 0) == Liveness.Dead)
                {
                    File.Delete(file);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
