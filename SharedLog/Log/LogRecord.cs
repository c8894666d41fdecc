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

    /// <summary>Reads an unmanaged value from the start of the payload.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The payload is shorter than <typeparamref name="T"/>.</exception>
    public T Read<T>()
        where T : unmanaged
        => MemoryMarshal.Read<T>(Payload);
}
