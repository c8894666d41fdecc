using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;

namespace SharedLog.Memory;

/// <summary>
/// The one home of <c>unsafe</c> mapping code: owns the file, the mapping and the view, and is the only caller of
/// <c>AcquirePointer</c>/<c>ReleasePointer</c>.
/// </summary>
/// <remarks>
/// Design: every object that holds pointers into the mapping (the structure, its writer, readers, snapshots) takes
/// a reference with <see cref="AddRef"/> and gives it back on dispose; the view is unmapped when the last reference
/// goes, so disposing the structure while a reader is still in use never leaves that reader a dangling pointer.
/// Creating, opening and naming files is <c>Files.FileStore</c>'s job; this type only maps what it is given.
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

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="stream"/> (sized first when <paramref name="created"/>); takes ownership of the stream.</summary>
    public static MappedRegion Map(string path, FileStream stream, long length, bool created, bool readOnly = false)
    {
        try
        {
            if (created)
            {
                stream.SetLength(length);
            }

            var access = readOnly ? MemoryMappedFileAccess.Read : MemoryMappedFileAccess.ReadWrite;
            var file = MemoryMappedFile.CreateFromFile(stream, null, length, access, HandleInheritability.None, leaveOpen: false);
            try
            {
                var view = file.CreateViewAccessor(0, length, access);
                return new MappedRegion(path, file, view, length) { IsReadOnly = readOnly };
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
}
