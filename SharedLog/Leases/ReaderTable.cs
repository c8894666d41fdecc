using System.Runtime.CompilerServices;
using SharedLog.Layout;
using SharedLog.Memory;
using SharedLog.Platform;

namespace SharedLog.Leases;

/// <summary>
/// The reader table: <c>MaxReaders</c> slots of <see cref="ReaderSlotLayout"/>, each claimed by one reader or
/// snapshot. Shared by the log (pins are generations) and the ring (pins are byte positions).
/// </summary>
/// <remarks>
/// Design: a slot is claimed by CAS on its owner word, then its owner resets state, pin and lost count. The writer
/// reads pins of slots that are owned and active; a free slot's stale fields are ignored. Dead owners are reaped by
/// CAS back to free (pid 0, same epoch) by whoever needs the space: the writer when pins block it, a claimer when the
/// table is full. Eviction is a CAS of the state from active to evicted by the writer; the owner re-arms it.
/// </remarks>
internal readonly unsafe struct ReaderTable
{
    private readonly MappedRegion _region;
    private readonly long _offset;

    public ReaderTable(MappedRegion region, long offset, int count)
    {
        _region = region;
        _offset = offset;
        Count = count;
    }

    public int Count { get; }

    public MappedRegion Region => _region;

    public byte* Slot(int index) => _region.Base + _offset + ((long)index * ReaderSlotLayout.Length);

    public long SlotOffset(int index) => _offset + ((long)index * ReaderSlotLayout.Length);

    /// <summary>Claims a free slot (reaping dead owners if the table is full) and leaves it idle with no pin.</summary>
    public int Claim(int role, out long ownerWord)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            for (int i = 0; i < Count; i++)
            {
                byte* slot = Slot(i);
                long word = OwnerBlock.ReadWord(slot);
                if (OwnerBlock.PidOf(word) != 0 && pass == 0)
                {
                    continue;
                }

                long claimed = OwnerBlock.TryClaim(slot, out _);
                if (claimed != 0)
                {
                    Atomic.WriteRelease((int*)(slot + ReaderSlotLayout.StateOffset), ReaderSlotLayout.StateIdle);
                    Atomic.WriteRelease((long*)(slot + ReaderSlotLayout.PinOffset), ReaderSlotLayout.NoPin);
                    *(int*)(slot + ReaderSlotLayout.RoleOffset) = role;
                    Atomic.WriteRelease((long*)(slot + ReaderSlotLayout.LostCountOffset), 0);
                    *(long*)(slot + ReaderSlotLayout.EvictionsOffset) = 0;
                    Atomic.WriteRelease((long*)(slot + ReaderSlotLayout.PositionOffset), 0);
                    ownerWord = claimed;
                    return i;
                }
            }
        }

        throw new SharedLogException(
            $"The reader table of '{_region.FilePath}' is full: all {Count} slots belong to live readers or snapshots. " +
            "Dispose readers and snapshots you no longer need, or create the file with a larger MaxReaders.");
    }

    /// <summary>Gives the slot back if <paramref name="ownerWord"/> still owns it.</summary>
    public void Release(int index, long ownerWord)
    {
        byte* slot = Slot(index);
        if (OwnerBlock.IsOwnedBy(slot, ownerWord))
        {
            Atomic.WriteRelease((int*)(slot + ReaderSlotLayout.StateOffset), ReaderSlotLayout.StateIdle);
            Atomic.WriteRelease((long*)(slot + ReaderSlotLayout.PinOffset), ReaderSlotLayout.NoPin);
            OwnerBlock.Release(slot, ownerWord);
        }
    }

    /// <summary>
    /// Publishes a pin at the oldest value <paramref name="oldest"/> holds, using the Dekker handshake with the
    /// writer: store the pin, full fence, re-read. Returns the pinned value; every value at or above it is safe
    /// from reuse until the pin moves.
    /// </summary>
    public static long PinOldest(byte* slot, long* oldest, long atLeast)
    {
        long* pin = (long*)(slot + ReaderSlotLayout.PinOffset);
        long value = Math.Max(Atomic.ReadAcquire(oldest), atLeast);
        for (int attempt = 0; attempt < 1_000_000; attempt++)
        {
            Atomic.WriteRelease(pin, value);
            Atomic.FullFence();

            // Pairs with the writer raising Oldest and fencing before it scans pins (LogWriter.ReuseSlot).
            long now = Atomic.ReadAcquire(oldest);
            if (now <= value)
            {
                return value;
            }

            value = now;
        }

        throw new SharedLogException("Could not pin a reader slot: the writer moved on faster than the reader could register.");
    }

    /// <summary>
    /// Marks the slot active, or re-arms it after an eviction. Returns true when it had been evicted. A compare-exchange,
    /// so an eviction the writer makes at the same instant is either reported now or stays visible for the next call;
    /// it is never overwritten by a plain store.
    /// </summary>
    public static bool Activate(byte* slot)
    {
        int* state = (int*)(slot + ReaderSlotLayout.StateOffset);
        while (true)
        {
            int previous = Atomic.ReadAcquire(state);
            if (previous == ReaderSlotLayout.StateActive)
            {
                // Full fence: callers store a pin right before; the writer's scan must see pin and state together.
                Atomic.FullFence();
                return false;
            }

            // Interlocked (a full fence): pairs with the writer's compare-exchange in EvictAtOrBelow.
            if (Atomic.CompareExchange(state, ReaderSlotLayout.StateActive, previous) == previous)
            {
                return previous == ReaderSlotLayout.StateEvicted;
            }
        }
    }

    /// <summary>Index-based <see cref="Activate(byte*)"/>, for tests and tools.</summary>
    public bool Activate(int index) => Activate(Slot(index));

    public static bool IsEvicted(byte* slot)
        => Atomic.ReadAcquire((int*)(slot + ReaderSlotLayout.StateOffset)) == ReaderSlotLayout.StateEvicted;

    /// <summary>
    /// The smallest pin of all owned, active slots, or <see cref="ReaderSlotLayout.NoPin"/>. Called by the writer
    /// after a full fence; reaps dead owners when <paramref name="reap"/> is set.
    /// </summary>
    public long MinPin(bool reap, out int slowest)
    {
        long min = ReaderSlotLayout.NoPin;
        slowest = -1;
        for (int i = 0; i < Count; i++)
        {
            byte* slot = Slot(i);
            long word = OwnerBlock.ReadWord(slot);
            if (OwnerBlock.PidOf(word) == 0
                || Atomic.ReadAcquire((int*)(slot + ReaderSlotLayout.StateOffset)) != ReaderSlotLayout.StateActive)
            {
                continue;
            }

            long pin = Atomic.ReadAcquire((long*)(slot + ReaderSlotLayout.PinOffset));
            if (pin >= min)
            {
                continue;
            }

            if (reap && OwnerBlock.TryReap(slot, word))
            {
                continue;
            }

            min = pin;
            slowest = i;
        }

        return min;
    }

    /// <summary>Evicts every active slot whose pin is at or below <paramref name="limit"/>; returns how many.</summary>
    public int EvictAtOrBelow(long limit)
    {
        int evicted = 0;
        for (int i = 0; i < Count; i++)
        {
            byte* slot = Slot(i);
            if (OwnerBlock.PidOf(OwnerBlock.ReadWord(slot)) == 0)
            {
                continue;
            }

            int* state = (int*)(slot + ReaderSlotLayout.StateOffset);
            if (Atomic.ReadAcquire((long*)(slot + ReaderSlotLayout.PinOffset)) <= limit
                && Atomic.CompareExchange(state, ReaderSlotLayout.StateEvicted, ReaderSlotLayout.StateActive) == ReaderSlotLayout.StateActive)
            {
                Atomic.GetAndAdd((long*)(slot + ReaderSlotLayout.EvictionsOffset), 1);
                evicted++;
            }
        }

        return evicted;
    }

    /// <summary>
    /// How many slots readers hold at this instant (snapshots and record leases apart: they never wait). Plain loads,
    /// no liveness check: a dead reader counts until it is reaped. Compiled optimised at once, as its caller
    /// (<see cref="Files.SharedFile.CountCrowd"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int CountReaders()
    {
        int readers = 0;
        for (int i = 0; i < Count; i++)
        {
            byte* slot = Slot(i);
            if (OwnerBlock.PidOf(OwnerBlock.ReadWord(slot)) != 0 && *(int*)(slot + ReaderSlotLayout.RoleOffset) == ReaderSlotLayout.RoleReader)
            {
                readers++;
            }
        }

        return readers;
    }

    /// <summary>Reaps every slot whose owner is dead; returns how many were freed.</summary>
    public int ReapDead()
    {
        int reaped = 0;
        for (int i = 0; i < Count; i++)
        {
            byte* slot = Slot(i);
            long word = OwnerBlock.ReadWord(slot);
            if (OwnerBlock.PidOf(word) != 0 && OwnerBlock.TryReap(slot, word))
            {
                reaped++;
            }
        }

        return reaped;
    }

    /// <summary>
    /// The occupied slots at this instant, for inspection (GetStatus). Read before the structure's own counters, so
    /// every reader's position is at or below the end read afterwards.
    /// </summary>
    /// <param name="positionIsPin">True for the ring, whose readers pin their position; false for the log, whose readers publish it.</param>
    public List<ReaderSlotInfo> DescribeOccupied(bool positionIsPin)
    {
        var readers = new List<ReaderSlotInfo>();
        for (int i = 0; i < Count; i++)
        {
            var info = Describe(i);
            if (info.Pid != 0)
            {
                readers.Add(positionIsPin ? info with { Position = info.Pin } : info);
            }
        }

        return readers;
    }

    /// <summary>Public status rows for slots read by <see cref="DescribeOccupied"/>, with the lag behind <paramref name="end"/>.</summary>
    public static List<ReaderStatus> ToStatus(List<ReaderSlotInfo> slots, long end)
        => slots.ConvertAll(info => new ReaderStatus(info.Index, info.Pid, info.Role == ReaderSlotLayout.RoleSnapshot,
            info.State == ReaderSlotLayout.StateEvicted, info.Pin, info.LostCount, info.Liveness != Liveness.Dead,
            info.Position, Math.Max(0, end - info.Position), info.Role == ReaderSlotLayout.RoleLease));

    /// <summary>A point-in-time description of one slot, for inspection tools and tests.</summary>
    public ReaderSlotInfo Describe(int index)
    {
        byte* slot = Slot(index);
        long word = OwnerBlock.ReadWord(slot);
        return new ReaderSlotInfo(
            index,
            OwnerBlock.PidOf(word),
            Atomic.ReadAcquire((int*)(slot + ReaderSlotLayout.StateOffset)),
            *(int*)(slot + ReaderSlotLayout.RoleOffset),
            Atomic.ReadAcquire((long*)(slot + ReaderSlotLayout.PinOffset)),
            Atomic.ReadAcquire((long*)(slot + ReaderSlotLayout.LostCountOffset)),
            OwnerBlock.PidOf(word) == 0 ? Liveness.Dead : OwnerBlock.CheckOwner(slot, word),
            Atomic.ReadAcquire((long*)(slot + ReaderSlotLayout.PositionOffset)));
    }

    /// <summary>
    /// The counters of slot <paramref name="index"/>, for metrics: acquire loads only, no liveness check (so no
    /// syscall per slot). A pid of 0 means the slot is free.
    /// </summary>
    public ReaderSlotCounters ReadCounters(int index)
    {
        byte* slot = Slot(index);
        return new ReaderSlotCounters(
            OwnerBlock.PidOf(OwnerBlock.ReadWord(slot)),
            *(int*)(slot + ReaderSlotLayout.RoleOffset),
            Atomic.ReadAcquire((long*)(slot + ReaderSlotLayout.PinOffset)),
            Atomic.ReadAcquire((long*)(slot + ReaderSlotLayout.PositionOffset)),
            Atomic.ReadAcquire((long*)(slot + ReaderSlotLayout.LostCountOffset)),
            Atomic.ReadAcquire((long*)(slot + ReaderSlotLayout.EvictionsOffset)));
    }
}

/// <summary>One reader slot as seen at one instant.</summary>
internal readonly record struct ReaderSlotInfo(int Index, int Pid, int State, int Role, long Pin, long LostCount, Liveness Liveness, long Position);

/// <summary>One reader slot's counters at one instant (see <see cref="ReaderTable.ReadCounters"/>).</summary>
internal readonly record struct ReaderSlotCounters(int Pid, int Role, long Pin, long Position, long LostCount, long Evictions);
