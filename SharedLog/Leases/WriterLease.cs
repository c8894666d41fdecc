using System.Runtime.CompilerServices;
using SharedLog.Memory;
using SharedLog.Platform;

namespace SharedLog.Leases;

/// <summary>
/// The writer lease of one file, held by this process: claimed by compare-and-swap on the header's owner block,
/// kept alive by the process heartbeat, checked before every write, released on dispose. The one implementation used
/// by the log's and the ring's writers.
/// </summary>
/// <remarks>
/// Design: see <see cref="OwnerBlock"/> for the claim protocol. A lease holds its own reference on the mapping, so a
/// writer core may be used until the lease is disposed even if the structure's handle was disposed first. A lease
/// that another process took over (possible only through the heartbeat fallback, for an owner in another pid
/// namespace whose heartbeat stalled) is never released by this process: the release is a compare-and-swap on the
/// word this process claimed.
/// </remarks>
internal sealed unsafe class WriterLease : IDisposable
{
    private readonly MappedRegion _region;
    private readonly byte* _block;
    private readonly object _heartbeat;
    private bool _released;

    private WriterLease(MappedRegion region, long blockOffset, long ownerWord, long previousOwner)
    {
        _region = region;
        _block = region.At(blockOffset, Layout.OwnerLayout.Length);
        OwnerWord = ownerWord;
        PreviousOwner = previousOwner;
        _heartbeat = Heartbeat.Register(region, blockOffset, ownerWord);
    }

    /// <summary>The owner word this process claimed: pid | epoch &lt;&lt; 32.</summary>
    public long OwnerWord { get; }

    /// <summary>The word of a dead owner this claim took over, or 0 when the lease was free.</summary>
    public long PreviousOwner { get; }

    /// <summary>Whether this process still holds the lease: one load of a line that changes once a second (the heartbeat).</summary>
    public bool IsHeld
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => !_released && OwnerBlock.IsOwnedBy(_block, OwnerWord);
    }

    /// <summary>Claims the lease at <paramref name="blockOffset"/> if it is free or its owner is dead; null when a live process holds it.</summary>
    public static WriterLease? TryClaim(MappedRegion region, long blockOffset)
    {
        byte* block = region.At(blockOffset, Layout.OwnerLayout.Length);
        region.AddRef();
        try
        {
            long owner = OwnerBlock.TryClaim(block, out long previous);
            if (owner == 0)
            {
                region.Release();
                return null;
            }

            return new WriterLease(region, blockOffset, owner, previous);
        }
        catch
        {
            region.Release();
            throw;
        }
    }

    /// <summary>Who holds the lease at <paramref name="blockOffset"/> now and whether the OS says it lives.</summary>
    public static (int Pid, Liveness Liveness) Describe(MappedRegion region, long blockOffset)
    {
        byte* block = region.At(blockOffset, Layout.OwnerLayout.Length);
        long word = OwnerBlock.ReadWord(block);
        int pid = OwnerBlock.PidOf(word);
        return (pid, pid == 0 ? Liveness.Dead : OwnerBlock.CheckOwner(block, word));
    }

    /// <summary>Throws unless this process still holds the lease; call before every write to the mapping.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ThrowIfLost()
    {
        if (!IsHeld)
        {
            ThrowLost();
        }
    }

    /// <summary>Gives the lease back (if this process still holds it) and the mapping reference with it.</summary>
    public void Dispose()
    {
        if (_released)
        {
            return;
        }

        _released = true;
        Heartbeat.Unregister(_heartbeat);
        OwnerBlock.Release(_block, OwnerWord);
        _region.Release();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowLost()
    {
        if (_released)
        {
            throw new ObjectDisposedException("writer", "The writer was disposed and its lease released.");
        }

        throw new SharedLogException(
            $"This process no longer holds the writer lease of '{_region.FilePath}' (another process took it over after its heartbeat stalled). Dispose this writer.");
    }
}
