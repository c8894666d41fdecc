using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SharedLog.Benchmarks.CrossProcess;

/// <summary>
/// The benchmark's message: <c>size / 8</c> 64-bit words derived from its sequence number (word 0 is the sequence,
/// word i is <c>sequence × K + i</c>). The writer fills every byte and the reader checks every byte, so a transport
/// cannot look fast by delivering torn, stale or skipped messages. Both sides also sum the words into a checksum.
/// </summary>
public static class TestMessage
{
    /// <summary>The smallest message: one word (the sequence number).</summary>
    public const int MinLength = sizeof(long);

    private const long K = unchecked((long)0x9E3779B97F4A7C15);

    /// <summary>Throws unless <paramref name="length"/> is a positive multiple of 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ValidateLength(long length)
    {
        if (length < MinLength || length % sizeof(long) != 0 || length > 1 << 20)
        {
            throw new ArgumentException($"the message size must be a multiple of 8 between 8 and 1 MiB, not {length}");
        }
    }

    /// <summary>Writes message <paramref name="sequence"/> into <paramref name="destination"/>; returns its checksum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Fill(Span<byte> destination, long sequence)
    {
        var words = MemoryMarshal.Cast<byte, long>(destination);
        long sum = sequence;
        words[0] = sequence;
        long value = sequence * K;
        for (int i = 1; i < words.Length; i++)
        {
            words[i] = value + i;
            sum += value + i;
        }

        return sum;
    }

    /// <summary>
    /// Checks that <paramref name="message"/> is intact; returns its sequence number (or -1 when it is not a
    /// well-formed message) and adds its checksum to <paramref name="checksum"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Check(ReadOnlySpan<byte> message, ref long checksum)
    {
        var words = MemoryMarshal.Cast<byte, long>(message);
        long sequence = words[0];
        long value = sequence * K;
        long sum = sequence;
        bool intact = true;
        for (int i = 1; i < words.Length; i++)
        {
            intact &= words[i] == value + i;
            sum += words[i];
        }

        checksum += sum;
        return intact ? sequence : -1;
    }
}
