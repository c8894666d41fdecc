using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SharedLog;

/// <summary>
/// One record, read in place from the mapping. The payload span stays valid until the next call on the reader or
/// snapshot that returned it; copy what must outlive that.
/// </summary>
public readonly ref struct LogRecord
{
    internal LogRecord(long sequence, int typeId, ReadOnlySpan<byte> payload)
    {
        Sequence = sequence;
        TypeId = typeId;
        Payload = payload;
    }

    /// <summary>The record's sequence number (0 for the first record ever appended).</summary>
    public long Sequence { get; }

    /// <summary>The user type id given at append.</summary>
    public int TypeId { get; }

    /// <summary>The payload, in place.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>Reads the payload as an unmanaged value (as written by <see cref="LogWriter.Append{T}(in T)"/>).</summary>
    /// <exception cref="InvalidOperationException">The payload's length is not the size of <typeparamref name="T"/>; the message names both.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public T Read<T>()
        where T : unmanaged
    {
        if (Payload.Length != Unsafe.SizeOf<T>())
        {
            ThrowSizeMismatch(typeof(T), Unsafe.SizeOf<T>());
        }

        return MemoryMarshal.Read<T>(Payload);
    }

    [DoesNotReturn]
    private readonly void ThrowSizeMismatch(Type type, int size)
        => throw new InvalidOperationException(
            $"Record {Sequence} (type id {TypeId}) has a {Payload.Length}-byte payload, but {type.Name} is {size} bytes. Read it as the type it was appended as, or use Payload.");
}
