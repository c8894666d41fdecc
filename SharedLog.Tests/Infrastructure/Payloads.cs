using System.Buffers.Binary;

namespace SharedLog.Tests.Infrastructure;

/// <summary>Self-checking payloads: the sequence, a length derived from it and a checksum over the rest.</summary>
public static class Payloads
{
    /// <summary>Fills a payload for <paramref name="sequence"/>: [sequence:8][checksum:8][pattern...].</summary>
    public static int Fill(Span<byte> buffer, long sequence, int minLength = 16, int maxLength = 200)
    {
        int length = minLength + (int)((ulong)(sequence * 2654435761L) % (ulong)(maxLength - minLength + 1));
        var payload = buffer[..length];
        BinaryPrimitives.WriteInt64LittleEndian(payload, sequence);
        for (int i = 16; i < length; i++)
        {
            payload[i] = (byte)(sequence + (i * 31));
        }

        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], Checksum(payload, sequence));
        return length;
    }

    /// <summary>True when the payload is exactly what <see cref="Fill"/> wrote for <paramref name="sequence"/>.</summary>
    public static bool Verify(ReadOnlySpan<byte> payload, long sequence)
    {
        if (payload.Length < 16 || BinaryPrimitives.ReadInt64LittleEndian(payload) != sequence)
        {
            return false;
        }

        return BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]) == Checksum(payload, sequence);
    }

    private static ulong Checksum(ReadOnlySpan<byte> payload, long sequence)
    {
        ulong hash = 14695981039346656037UL ^ (ulong)sequence ^ ((ulong)payload.Length << 48);
        foreach (byte b in payload[16..])
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }
}
