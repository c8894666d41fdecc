namespace SharedLog.Tests.Ring;

/// <summary>
/// Position-derived stream content: the byte at stream position p is a hash of p, so every byte a reader receives can
/// be checked on its own, and bytes from another lap of the ring (p ± capacity) differ.
/// </summary>
public static class RingContent
{
    public static byte At(long position) => (byte)(((ulong)position * 0x9E3779B97F4A7C15UL) >> 56);

    public static void Fill(Span<byte> destination, long position)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = At(position + i);
        }
    }

    public static byte[] Make(long position, int length)
    {
        var bytes = new byte[length];
        Fill(bytes, position);
        return bytes;
    }

    /// <summary>The offset of the first byte that is not the content at its position, or -1.</summary>
    public static int Mismatch(ReadOnlySpan<byte> data, long position)
    {
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] != At(position + i))
            {
                return i;
            }
        }

        return -1;
    }
}
