using System.Runtime.InteropServices;

namespace SharedLog.Platform;

/// <summary>
/// <c>readv</c>/<c>writev</c> on Unix file descriptors (pipes, sockets, files), so a ring's two-part region moves in one
/// system call with no intermediate buffer.
/// </summary>
internal static unsafe partial class VectoredIo
{
    private const int EINTR = 4;

    /// <summary>Reads into up to two buffers; returns the bytes read, 0 at end of file. Blocks as the descriptor does.</summary>
    public static int Read(SafeHandle handle, byte* first, int firstLength, byte* second, int secondLength)
        => Transfer(handle, first, firstLength, second, secondLength, write: false);

    /// <summary>Writes from up to two buffers; returns the bytes written (possibly fewer, as <c>writev</c> may).</summary>
    public static int Write(SafeHandle handle, byte* first, int firstLength, byte* second, int secondLength)
        => Transfer(handle, first, firstLength, second, secondLength, write: true);

    private static int Transfer(SafeHandle handle, byte* first, int firstLength, byte* second, int secondLength, bool write)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("readv/writev need a Unix file descriptor; on Windows use the Memory<byte> pairs or the Stream adaptors.");
        }

        ObjectDisposedException.ThrowIf(handle.IsClosed || handle.IsInvalid, handle);
        IoVec* vectors = stackalloc IoVec[2];
        vectors[0] = new IoVec { Base = first, Length = (nuint)firstLength };
        vectors[1] = new IoVec { Base = second, Length = (nuint)secondLength };
        int count = secondLength > 0 ? 2 : 1;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            while (true)
            {
                nint result = write ? WriteV(fd, vectors, count) : ReadV(fd, vectors, count);
                if (result >= 0)
                {
                    return (int)result;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != EINTR)
                {
                    throw new IOException($"{(write ? "writev" : "readv")} on descriptor {fd} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).", errno);
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "readv", SetLastError = true)]
    private static partial nint ReadV(int fd, IoVec* iov, int iovcnt);

    [LibraryImport("libc", EntryPoint = "writev", SetLastError = true)]
    private static partial nint WriteV(int fd, IoVec* iov, int iovcnt);

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }
}
