using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SharedLog.Benchmarks.Suite;

/// <summary>
/// A file mapped into this process, addressed by byte offset: the harness's control words, the raw ring baselines
/// and the futex words all live in one of these. The view stays mapped until disposed.
/// </summary>
/// <remarks>
/// This project has no unsafe code: references into the mapping are made with <see cref="Unsafe.AddByteOffset{T}(ref T, nint)"/>
/// from the view's base address, and every offset is checked against the mapping's length.
/// </remarks>
public sealed class SharedMapping : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly nint _address;

    private SharedMapping(string path, long length)
    {
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, length, MemoryMappedFileAccess.ReadWrite);
        _view = _file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        _address = _view.SafeMemoryMappedViewHandle.DangerousGetHandle() + (nint)_view.PointerOffset;
        Length = length;
        Path = path;
    }

    /// <summary>Bytes mapped.</summary>
    public long Length { get; }

    /// <summary>The mapped file.</summary>
    public string Path { get; }

    /// <summary>Creates a zero-filled file of <paramref name="length"/> bytes (the name must be new) and maps it.</summary>
    public static SharedMapping Create(string path, long length)
    {
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            file.SetLength(length);
        }

        return new SharedMapping(path, length);
    }

    /// <summary>Maps an existing file whole.</summary>
    public static SharedMapping Open(string path) => new(path, new FileInfo(path).Length);

    /// <summary>The 64-bit word at <paramref name="offset"/> (8-byte aligned).</summary>
    public ref long Int64(long offset)
    {
        Check(offset, sizeof(long));
        return ref Unsafe.AddByteOffset(ref Unsafe.NullRef<long>(), _address + (nint)offset);
    }

    /// <summary>The 32-bit word at <paramref name="offset"/> (4-byte aligned), e.g. a futex word.</summary>
    public ref int Int32(long offset)
    {
        Check(offset, sizeof(int));
        return ref Unsafe.AddByteOffset(ref Unsafe.NullRef<int>(), _address + (nint)offset);
    }

    /// <summary>The address of the byte at <paramref name="offset"/>, for system calls that take one (futex).</summary>
    public nint Address(long offset)
    {
        Check(offset, 1);
        return _address + (nint)offset;
    }

    /// <summary><paramref name="length"/> bytes from <paramref name="offset"/>.</summary>
    public Span<byte> Bytes(long offset, int length)
    {
        Check(offset, length);
        return MemoryMarshal.CreateSpan(ref Unsafe.AddByteOffset(ref Unsafe.NullRef<byte>(), _address + (nint)offset), length);
    }

    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
    }

    private void Check(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset + length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"{length} bytes at {offset} lie outside the {Length}-byte mapping");
        }
    }
}
