using SharedLog.Layout;
using SharedLog.Memory;
using SharedLog.Platform;

namespace SharedLog.Leases;

/// <summary>
/// Claim, release and liveness of an <see cref="OwnerLayout"/> block (the writer lease, the head of a reader slot).
/// </summary>
/// <remarks>
/// Design: the owner word (pid | epoch &lt;&lt; 32) changes only by compare-and-swap, so of two racing claimers exactly
/// one wins. The winner then writes its start time and pid namespace and publishes them with the identity epoch
/// (release). A checker trusts the start time only when the identity epoch equals the word's epoch; otherwise the
/// claim is in flight and only the pid's existence counts. A dead owner (pid gone, or reused with another start
/// time) is taken over at once; the heartbeat timeout is the fallback where the OS cannot tell (another pid
/// namespace). A crash at any step leaves either the old owner (dead, taken over later) or the new one.
/// </remarks>
internal static unsafe class OwnerBlock
{
    /// <summary>How stale a heartbeat must be before an owner the OS cannot check is presumed dead.</summary>
    public const long HeartbeatTimeoutMs = 10_000;

    public static int PidOf(long word) => (int)(uint)word;

    public static long EpochOf(long word) => (long)((ulong)word >> 32);

    public static long MakeWord(long epoch, int pid) => (long)(((ulong)epoch << 32) | (uint)pid);

    public static long ReadWord(byte* block) => Atomic.ReadAcquire((long*)(block + OwnerLayout.OwnerWordOffset));

    /// <summary>
    /// Claims the block if it is free or its owner is dead. Returns the new owner word, or 0 when a live process owns it.
    /// </summary>
    /// <param name="block">The owner block.</param>
    /// <param name="previousOwner">The word of a dead owner that was taken over, or 0.</param>
    public static long TryClaim(byte* block, out long previousOwner)
    {
        previousOwner = 0;
        long* wordAddress = (long*)(block + OwnerLayout.OwnerWordOffset);
        for (int attempt = 0; attempt < 64; attempt++)
        {
            long word = Atomic.ReadAcquire(wordAddress);
            int pid = PidOf(word);
            if (pid != 0 && CheckOwner(block, word) != Liveness.Dead)
            {
                return 0;
            }

            long claimed = MakeWord((EpochOf(word) + 1) & 0xFFFF_FFFF, ProcessIdentity.Pid);
            if (claimed == word)
            {
                claimed = MakeWord((EpochOf(word) + 2) & 0xFFFF_FFFF, ProcessIdentity.Pid);
            }

            if (Atomic.CompareExchange(wordAddress, claimed, word) == word)
            {
                previousOwner = pid != 0 ? word : 0;
                WriteIdentity(block, claimed);
                return claimed;
            }
        }

        return 0;
    }

    /// <summary>Releases the block if <paramref name="owner"/> still owns it; the epoch is kept.</summary>
    public static bool Release(byte* block, long owner)
    {
        long free = MakeWord(EpochOf(owner), 0);
        return Atomic.CompareExchange((long*)(block + OwnerLayout.OwnerWordOffset), free, owner) == owner;
    }

    /// <summary>Frees a block whose owner is dead. Other fields are left for the next claimer to overwrite.</summary>
    public static bool TryReap(byte* block, long word)
    {
        if (PidOf(word) == 0 || CheckOwner(block, word) != Liveness.Dead)
        {
            return false;
        }

        return Atomic.CompareExchange((long*)(block + OwnerLayout.OwnerWordOffset), MakeWord(EpochOf(word), 0), word) == word;
    }

    public static bool IsOwnedBy(byte* block, long owner) => ReadWord(block) == owner;

    /// <summary>Whether the owner recorded in <paramref name="word"/> is alive, dead or unknown, with the heartbeat as fallback.</summary>
    public static Liveness CheckOwner(byte* block, long word)
    {
        int pid = PidOf(word);
        if (pid == 0)
        {
            return Liveness.Dead;
        }

        bool identityValid = Atomic.ReadAcquire((long*)(block + OwnerLayout.IdentityEpochOffset)) == EpochOf(word);
        long startTime = identityValid ? *(long*)(block + OwnerLayout.StartTimeOffset) : 0;
        long pidNamespace = identityValid ? *(long*)(block + OwnerLayout.PidNamespaceOffset) : 0;
        var liveness = ProcessIdentity.Check(pid, startTime, pidNamespace);
        if (liveness != Liveness.Unknown)
        {
            return liveness;
        }

        long heartbeat = Atomic.ReadAcquire((long*)(block + OwnerLayout.HeartbeatOffset));
        return ProcessIdentity.NowMs - heartbeat > HeartbeatTimeoutMs ? Liveness.Dead : Liveness.Unknown;
    }

    public static void Beat(byte* block) => Atomic.WriteRelease((long*)(block + OwnerLayout.HeartbeatOffset), ProcessIdentity.NowMs);

    private static void WriteIdentity(byte* block, long word)
    {
        Beat(block);
        *(long*)(block + OwnerLayout.StartTimeOffset) = ProcessIdentity.StartTime;
        *(long*)(block + OwnerLayout.PidNamespaceOffset) = ProcessIdentity.PidNamespace;

        // Release: publishes start time and namespace; pairs with ReadAcquire in CheckOwner.
        Atomic.WriteRelease((long*)(block + OwnerLayout.IdentityEpochOffset), EpochOf(word));
    }
}
