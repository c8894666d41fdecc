using System.Runtime.CompilerServices;

namespace SharedLog.Memory;

/// <summary>
/// Memory ordering over raw pointers into a mapping, named by what each operation does.
/// Every <see cref="WriteRelease(long*, long)"/> is paired with a <see cref="ReadAcquire(long*)"/>
/// at the reading side; call sites say which pair they belong to.
/// </summary>
internal static unsafe class Atomic
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long ReadAcquire(long* address) => Volatile.Read(ref *address);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ReadAcquire(int* address) => Volatile.Read(ref *address);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteRelease(long* address, long value) => Volatile.Write(ref *address, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteRelease(int* address, int value) => Volatile.Write(ref *address, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long CompareExchange(long* address, long value, long comparand)
        => Interlocked.CompareExchange(ref *address, value, comparand);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int CompareExchange(int* address, int value, int comparand)
        => Interlocked.CompareExchange(ref *address, value, comparand);

    /// <summary>Stores <paramref name="value"/> with a full fence: later loads and stores stay after it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Exchange(long* address, long value) => Interlocked.Exchange(ref *address, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long GetAndAdd(long* address, long delta) => Interlocked.Add(ref *address, delta) - delta;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int GetAndAdd(int* address, int delta) => Interlocked.Add(ref *address, delta) - delta;

    /// <summary>
    /// Orders earlier loads and stores before later stores (a release fence), as a seqlock writer needs between its
    /// mark and the bytes it overwrites. No instruction on x64 (TSO keeps stores in order), a barrier on ARM64.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFence() => Volatile.WriteBarrier();

    /// <summary>Full two-way fence: orders earlier stores before later loads (Dekker-style handshakes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FullFence() => Interlocked.MemoryBarrier();

    /// <summary>Orders earlier loads before later loads: the seqlock re-check after reading data.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LoadFence() => Volatile.ReadBarrier();
}
