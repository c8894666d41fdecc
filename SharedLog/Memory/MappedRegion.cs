using System.Diagnostics;
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
/// A structure that grows maps further ranges of the same file (<see cref="MapRange"/>), each as its own view: the
/// file's handle stays open for that, and those views live exactly as long as the base view, so a span handed out
/// from any of them stays valid while the region is referenced. Nothing is ever unmapped earlier or moved.
/// Creating, opening and naming files is <c>Files.FileStore</c>'s job; this type only maps what it is given.
/// </remarks>
internal sealed unsafe class MappedRegion
{
    private readonly FileStream _stream;
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly SafeMemoryMappedViewHandle _handle;
    private readonly Lock _mapLock = new();
    private List<(MemoryMappedFile File, MemoryMappedViewAccessor View)>? _ranges;
    private byte* _base;
    private int _references = 1;

    private MappedRegion(string path, FileStream stream, MemoryMappedFile file, MemoryMappedViewAccessor view, long length)
    {
        FilePath = path;
        _stream = stream;
        _file = file;
        _view = view;
        _handle = view.SafeMemoryMappedViewHandle;
        Length = length;
        byte* pointer = null;
        _handle.AcquirePointer(ref pointer);
        _base = pointer + view.PointerOffset;
    }

    public string FilePath { get; }

    /// <summary>
    /// Mapped without write access (inspection): a store through it would fault, so every handle over a read-only
    /// region refuses the operations that write (claiming the writer, a reader slot).
    /// </summary>
    public bool IsReadOnly { get; private init; }

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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            lock (_mapLock)
            {
                foreach (var (file, view) in _ranges ?? [])
                {
                    view.SafeMemoryMappedViewHandle.ReleasePointer();
                    view.Dispose();
                    file.Dispose();
                }

                _ranges = null;
            }

            _base = null;
            _handle.ReleasePointer();
            _view.Dispose();
            _file.Dispose();
            _stream.Dispose();
        }
    }

    /// <summary>The file's length now (it may have grown since it was mapped).</summary>
    public long ReadFileLength()
    {
        try
        {
            return RandomAccess.GetLength(_stream.SafeFileHandle);
        }
        catch (IOException e)
        {
            throw new SharedLogException($"Cannot read the length of '{FilePath}': {e.Message}", e);
        }
    }

    /// <summary>
    /// Reserves the file's blocks for <paramref name="length"/> bytes at <paramref name="offset"/>, extending the file
    /// if it is shorter (<c>posix_fallocate</c>: a full file system is reported here, never as a SIGBUS later).
    /// Idempotent.
    /// </summary>
    /// <exception cref="SharedLogException">The file system is full, or the space cannot be reserved.</exception>
    public void Reserve(long offset, long length)
    {
        int errno = FileSpace.Allocate(_stream.SafeFileHandle, offset, length);
        if (errno == FileSpace.ENOSPC)
        {
            throw new SharedLogException(
                $"Cannot grow '{FilePath}' to {offset + length} bytes: the file system is full. Free space in '{Path.GetDirectoryName(FilePath)}' or lower MaxBytes.");
        }

        if (errno != 0)
        {
            throw new SharedLogException($"Cannot reserve {length} bytes at offset {offset} of '{FilePath}': {FileSpace.Describe(errno)} (errno {errno}).");
        }

        if (ReadFileLength() < offset + length)
        {
            // Where there is no posix_fallocate: extend the file (sparse).
            RandomAccess.SetLength(_stream.SafeFileHandle, offset + length);
        }
    }

    /// <summary>
    /// A pointer to <paramref name="length"/> bytes at <paramref name="offset"/> of the file, mapped as a view of its
    /// own unless the base view covers them. The caller checks that the file is long enough first (mapping past its end
    /// would fault on access). The view stays mapped until the region's last reference is released.
    /// </summary>
    public byte* MapRange(long offset, long length)
    {
        Debug.Assert(offset >= 0 && length > 0, "a range to map is not empty");
        if (offset <= Length && length <= Length - offset)
        {
            return Base + offset;
        }

        lock (_mapLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _references) == 0, this);
            MemoryMappedFile? file = null;
            try
            {
                // Capacity 0: the file's length now, which the caller checked covers the range (never extends it).
                var access = IsReadOnly ? MemoryMappedFileAccess.Read : MemoryMappedFileAccess.ReadWrite;
                file = MemoryMappedFile.CreateFromFile(_stream.SafeFileHandle, null, 0, access, HandleInheritability.None, leaveOpen: true);
                var view = file.CreateViewAccessor(offset, length, access);
                byte* pointer = null;
                view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
                (_ranges ??= []).Add((file, view));
                return pointer + view.PointerOffset;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                file?.Dispose();
                throw new SharedLogException($"Cannot map {length} bytes at offset {offset} of '{FilePath}': {e.Message}", e);
            }
        }
    }

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="stream"/> (sized first when <paramref name="created"/>); takes ownership of the stream.</summary>
    public static MappedRegion Map(string path, FileStream stream, long length, bool created, bool readOnly = false)
    {
        try
        {
            if (created)
            {
                stream.SetLength(length);
            }

            // Capacity 0 (the file's length now): a file that grew since its length was read is mapped as far as it was.
            // The stream stays open (and owned by the region) so further ranges can be mapped later.
            var access = readOnly ? MemoryMappedFileAccess.Read : MemoryMappedFileAccess.ReadWrite;
            var file = MemoryMappedFile.CreateFromFile(stream, null, 0, access, HandleInheritability.None, leaveOpen: true);
            try
            {
                var view = file.CreateViewAccessor(0, length, access);
                return new MappedRegion(path, stream, file, view, length) { IsReadOnly = readOnly };
            }
            catch
            {
                file.Dispose();
                stream.Dispose();
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
        catch (ArgumentOutOfRangeException e)
        {
            // The view asked for more than the file holds now.
            stream.Dispose();
            throw new SharedLogFormatException($"'{path}' shrank below {length} bytes while it was mapped: another process is truncating it.", e);
        }
    }
}
