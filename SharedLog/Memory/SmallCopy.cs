using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SharedLog.Memory;

/// <summary>
/// Copies bytes inline when there are 16 to 64 of them (two overlapping vector moves, both loads before both stores,
/// as <c>memmove</c> does for these sizes, so overlapping spans are copied correctly) and through
/// <see cref="ReadOnlySpan{T}.CopyTo"/> otherwise.
/// </summary>
/// <remarks>
/// Design: the log's appends and the ring's writes and reads copy a small payload on every call. The runtime's copy
/// is a call that is never inlined; in a 64-byte append it took a fifth of the writer's time, and the call made the
/// caller save and reload its registers around it. Other sizes take the runtime's copy unchanged.
/// </remarks>
internal static class SmallCopy
{
    /// <summary>Copies <paramref name="source"/> to the start of <paramref name="destination"/>, which is at least as long.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter, as <see cref="ReadOnlySpan{T}.CopyTo"/> says.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        // Checked in every build, as the runtime's copy checks it: the vector stores below would otherwise write past
        // the destination. Where the caller made both spans the same length, the JIT drops the comparison.
        if ((uint)source.Length > (uint)destination.Length)
        {
            ThrowDestinationTooShort();
        }

        nuint length = (nuint)source.Length;
        if (length - 16 <= 48 && (length <= 32 || Vector256.IsHardwareAccelerated))
        {
            ref byte from = ref MemoryMarshal.GetReference(source);
            ref byte to = ref MemoryMarshal.GetReference(destination);
            if (length <= 32)
            {
                var head = Unsafe.ReadUnaligned<Vector128<byte>>(ref from);
                var tail = Unsafe.ReadUnaligned<Vector128<byte>>(ref Unsafe.Add(ref from, length - 16));
                Unsafe.WriteUnaligned(ref to, head);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref to, length - 16), tail);
            }
            else
            {
                var head = Unsafe.ReadUnaligned<Vector256<byte>>(ref from);
                var tail = Unsafe.ReadUnaligned<Vector256<byte>>(ref Unsafe.Add(ref from, length - 32));
                Unsafe.WriteUnaligned(ref to, head);
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref to, length - 32), tail);
            }

            return;
        }

        source.CopyTo(destination);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDestinationTooShort()
        => throw new ArgumentException("The destination is shorter than the source.", "destination");
}
