using System.Runtime.InteropServices;

namespace SharedLog.Platform;

/// <summary>
/// Reserves a file's blocks up front (<c>posix_fallocate</c> on Linux), so a full file system is an error when the
/// file grows, never a SIGBUS when a mapped page is first written.
/// </summary>
internal static partial class FileSpace
{
    /// <summary>errno of a full file system.</summary>
    public const int ENOSPC = 28;

    private const int EINTR = 4;

    /// <summary>
    /// Allocates <paramref name="length"/> bytes at <paramref name="offset"/> of the file, extending it if needed.
    /// Returns 0 or the errno. Idempotent: blocks already allocated stay as they are. Where there is no
    /// <c>posix_fallocate</c> the file is only extended (sparse), as <see cref="RandomAccess.SetLength"/> does.
    /// </summary>
    public static int Allocate(SafeHandle handle, long offset, long length)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            while (true)
            {
                // posix_fallocate returns the error number; it does not set errno.
                int result = PosixFallocate(fd, offset, length);
                if (result != EINTR)
                {
                    return result;
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

    /// <summary>The message for an errno returned by <see cref="Allocate"/>.</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    [LibraryImport("libc", EntryPoint = "posix_fallocate")]
    private static partial int PosixFallocate(int fd, long offset, long len);
}
