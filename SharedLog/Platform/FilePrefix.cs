using System.Runtime.InteropServices;
using System.Text;

namespace SharedLog.Platform;

/// <summary>
/// Reads the first bytes of a file by path without allocating (Linux: <c>open</c>, <c>pread</c>, <c>close</c> on a
/// UTF-8 path in a stack buffer). Waiting readers check their writer's <c>/proc</c> entry every 100 ms and their
/// file's header once a second; through <see cref="File"/> each check allocated a stream, its buffers and strings.
/// </summary>
internal static unsafe partial class FilePrefix
{
    /// <summary>errno: no such file or directory.</summary>
    public const int ENOENT = 2;

    /// <summary>errno: a path component is not a directory.</summary>
    public const int ENOTDIR = 20;

    /// <summary>Paths of this many UTF-8 bytes or more are not read here (see <see cref="Fits"/>).</summary>
    public const int MaxPathBytes = 1024;

    private const int OpenReadOnlyCloseOnExec = 0x80000; // O_RDONLY | O_CLOEXEC
    private const int EINTR = 4;

    /// <summary>Whether this platform reads through the system calls (Linux x64 and arm64).</summary>
    public static bool IsSupported { get; } = OperatingSystem.IsLinux()
        && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>
    /// Reads up to <paramref name="buffer"/>'s length from the start of the file at <paramref name="path"/> (ASCII or
    /// UTF-8 bytes, no terminator). Returns the bytes read, or minus the errno (-<see cref="ENOENT"/> when the file
    /// does not exist).
    /// </summary>
    public static int Read(ReadOnlySpan<byte> path, Span<byte> buffer)
    {
        if (path.Length >= MaxPathBytes)
        {
            throw new ArgumentException("The path is too long to read without allocating.", nameof(path));
        }

        byte* terminated = stackalloc byte[path.Length + 1];
        path.CopyTo(new Span<byte>(terminated, path.Length));
        terminated[path.Length] = 0;
        int fd;
        do
        {
            fd = Open(terminated, OpenReadOnlyCloseOnExec);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);

        if (fd < 0)
        {
            return -Marshal.GetLastPInvokeError();
        }

        try
        {
            fixed (byte* destination = buffer)
            {
                nint read;
                do
                {
                    read = PRead(fd, destination, buffer.Length, 0);
                }
                while (read < 0 && Marshal.GetLastPInvokeError() == EINTR);

                return read < 0 ? -Marshal.GetLastPInvokeError() : (int)read;
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Like <see cref="Read(ReadOnlySpan{byte}, Span{byte})"/> for a path given as a string (encoded on the stack; see <see cref="Fits"/>).</summary>
    public static int Read(string path, Span<byte> buffer)
    {
        if (!Fits(path))
        {
            throw new ArgumentException("The path is too long to read without allocating.", nameof(path));
        }

        Span<byte> utf8 = stackalloc byte[MaxPathBytes];
        int written = Encoding.UTF8.GetBytes(path, utf8);
        return Read(utf8[..written], buffer);
    }

    /// <summary>Whether <paramref name="path"/> fits the stack buffer of <see cref="Read(string, Span{byte})"/>.</summary>
    public static bool Fits(string path)
        => Encoding.UTF8.GetMaxByteCount(path.Length) < MaxPathBytes || Encoding.UTF8.GetByteCount(path) < MaxPathBytes;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    private static partial int Open(byte* path, int flags);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    private static partial nint PRead(int fd, byte* buffer, nint count, long offset);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
