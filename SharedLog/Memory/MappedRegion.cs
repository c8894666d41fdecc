using System.Diagnostics;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;
using SharedLog.Platform;

namespace SharedLog.Memory;

/// <summary>
/// The one home of <c>unsafe</c> mapping code: owns the file, the mapping and the view, and is the only caller of
/// <c>AcquirePointer</c>/<c>ReleasePointer</c>.
/// </summary>
/// <remarks>
/// Design: every object that holds pointers into the mapping (the structure, its writer, readers, snapshots) takes
/// a reference with <see cref="AddRef"/> and gives it back on dispose; the view is unmapped when the last reference
/// goes, so disposing the structure while a reader is still in use never leaves that reader a dangling pointer.
/// Files are created under a temporary name, sized with <c>posix_fallocate</c> (so a full tmpfs fails at creation,
/// never with SIGBUS later), initialised, and only then linked under their real name, so an opener never sees a
/// half-initialised header. A creator killed before the link leaves only a dot-file that the next create removes.
/// </remarks>
internal sealed unsafe class MappedRegion
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly SafeMemoryMappedViewHandle _handle;
    private byte* _base;
    private int _references = 1;

    private MappedRegion(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, long length)
    {
        FilePath = path;
        _file = file;
        _view = view;
        _handle = view.SafeMemoryMappedViewHandle;
        Length = length;
        byte* pointer = null;
        _handle.AcquirePointer(ref pointer);
        _base = pointer + view.PointerOffset;
    }

    public string FilePath { get; }

    /// <summary>The mapped length: every offset is checked against it before it becomes an address.</summary>
    public long Length { get; }

    public byte* Base
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            Debug.Assert(_base != null, "region used after its last reference was released");
            return _base;
        }
    }

    /// <summary>A pointer to <paramref name="length"/> bytes at <paramref name="offset"/>, or a format error if they lie outside the mapping.</summary>
    public byte* At(long offset, long length)
    {
        if ((ulong)offset > (ulong)Length || (ulong)length > (ulong)(Length - offset))
        {
            ThrowHelper.ThrowCorrupt(FilePath, $"a field points outside the file (offset {offset}, length {length}, file length {Length})");
        }

        return Base + offset;
    }

    public void AddRef()
    {
        int current;
        do
        {
            current = Volatile.Read(ref _references);
            ObjectDisposedException.ThrowIf(current == 0, this);
        }
        while (Interlocked.CompareExchange(ref _references, current + 1, current) != current);
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _base = null;
            _handle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
        }
    }

    /// <summary>The default directory: /dev/shm on Linux when it exists, the temp directory elsewhere.</summary>
    public static string DefaultDirectory
        => OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

    /// <summary>Validates a structure name: 1 to 200 of letters, digits, '.', '_' and '-', not starting with '.'.</summary>
    public static string ResolvePath(string name, string? directory)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is 0 or > 200)
        {
            throw new ArgumentException($"The name must be 1 to 200 characters long; got {name.Length}.", nameof(name));
        }

        if (name[0] == '.')
        {
            throw new ArgumentException($"The name '{name}' must not start with '.'.", nameof(name));
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                throw new ArgumentException(
                    $"The name '{name}' may contain only ASCII letters, digits, '.', '_' and '-'; '{c}' is not allowed.", nameof(name));
            }
        }

        string dir = directory ?? DefaultDirectory;
        if (directory is not null && directory.Length == 0)
        {
            throw new ArgumentException("The directory must not be empty; pass null for the default.", nameof(directory));
        }

        return Path.Combine(dir, name);
    }

    /// <summary>Creates, sizes, initialises and then atomically publishes a new file.</summary>
    public static MappedRegion Create(string path, long length, Action<MappedRegion> initialise)
    {
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
        string temporary = Path.Combine(directory, "." + name + "." + ProcessIdentity.Pid.ToString(CultureInfo.InvariantCulture) + "." + Guid.NewGuid().ToString("N") + ".tmp");
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

            region = Map(path, stream, length, created: true);
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
    public static MappedRegion Open(string path, int minimumLength)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
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
            throw new SharedLogException($"'{path}' cannot be opened for reading and writing: {e.Message} Files are created owner-only; open it as the user that created it.", e);
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

        return Map(path, stream, length, created: false);
    }

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

    private static MappedRegion Map(string path, FileStream stream, long length, bool created)
    {
        try
        {
            if (created)
            {
                stream.SetLength(length);
            }

            var file = MemoryMappedFile.CreateFromFile(stream, null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
            try
            {
                var view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
                return new MappedRegion(path, file, view, length);
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }
        catch (IOException e)
        {
            stream.Dispose();
            throw new SharedLogException($"Cannot map '{path}' ({length} bytes): {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            stream.Dispose();
            throw new SharedLogException($"Cannot map '{path}': {e.Message}", e);
        }
    }

    private static void RemoveStaleTemporaries(string directory, string name)
    {
        try
        {
            foreach (string file in Directory.EnumerateFiles(directory, "." + name + ".*.tmp"))
            {
                string middle = Path.GetFileName(file)[(name.Length + 2)..];
                int dot = middle.IndexOf('.');
                if (dot > 0 && int.TryParse(middle.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                    && ProcessIdentity.Check(pid, 0, 0) == Liveness.Dead)
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
