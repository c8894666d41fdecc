using System.Runtime.CompilerServices;
using SharedLog.Layout;
using SharedLog.Memory;
using SharedLog.Waiting;

namespace SharedLog.Leases;

/// <summary>
/// One reader slot held by this process for one reader or snapshot: the slot, its heartbeat, the pin and the lost
/// count it publishes, eviction and re-registration. The one implementation used by the log's readers and snapshots
/// and the ring's readers.
/// </summary>
/// <remarks>
/// Design: the constructor claims a slot (compare-and-swap on its owner word) and registers the heartbeat; if anything
/// fails it gives back everything it took. Every store to the slot is preceded by an ownership check: a slot reaped
/// while its owner lived (only possible through the heartbeat fallback, for an owner in another pid namespace whose
/// heartbeat stalled) may belong to another reader now, so the lease never writes to it again and
/// <see cref="EnsureOwned"/> claims a fresh one. Pins move forward with a release store; a pin the writer may not know
/// about (a start, a step backwards) goes through a Dekker handshake owned by the structure (<see cref="PinOldest"/> for
/// the log; the ring's join). Each pin move or release notifies the space signal, which wakes a writer only if it
/// sleeps for space. A lease holds its own reference on the mapping until it is disposed.
/// </remarks>
internal sealed unsafe class ReaderLease : IDisposable
{
    private readonly ReaderTable _table;
    private readonly MappedRegion _region;
    private readonly Signal? _space;
    private readonly int _role;
    private long _ownerWord;
    private object? _heartbeat;
    private byte* _slot;
    private long* _pin;
    private long _lost;
    private long _position;
    private bool _disposed;

    /// <summary>Claims a slot of <paramref name="table"/>; throws <see cref="SharedLogException"/> when the table is full.</summary>
    /// <param name="table">The file's reader table.</param>
    /// <param name="role">A <see cref="ReaderSlotLayout"/> role (informational, for inspection).</param>
    /// <param name="space">The signal a writer blocked for space sleeps on, or null when the writer never waits for readers.</param>
    public ReaderLease(ReaderTable table, int role, Signal? space)
    {
        _table = table;
        _region = table.Region;
        _space = space;
        _role = role;
        _region.AddRef();
        try
        {
            Register();
        }
        catch
        {
            _region.Release();
            throw;
        }
    }

    /// <summary>The index of the slot in the reader table.</summary>
    public int SlotIndex { get; private set; }

    /// <summary>Records or bytes lost so far, as published in the slot.</summary>
    public long Lost => _lost;

    /// <summary>Whether the slot still belongs to this lease.</summary>
    public bool IsOwned
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => OwnerBlock.IsOwnedBy(_slot, _ownerWord);
    }

    /// <summary>Whether the writer evicted this reader (its pin no longer protects anything).</summary>
    public bool IsEvicted
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ReaderTable.IsEvicted(_slot);
    }

    /// <summary>The pin's address, for a structure's own Dekker handshake (the ring's join). Write it only while <see cref="IsOwned"/>.</summary>
    public long* PinAddress => _pin;

    /// <summary>
    /// Claims a fresh slot if this one was reaped; returns true when it did (the old pin protected nothing since, so
    /// the caller resumes as an evicted reader would). Carries the lost count over.
    /// </summary>
    public bool EnsureOwned()
    {
        if (IsOwned)
        {
            return false;
        }

        Heartbeat.Unregister(_heartbeat!);
        _heartbeat = null;
        Register();
        Atomic.WriteRelease((long*)(_slot + ReaderSlotLayout.LostCountOffset), _lost);
        Atomic.WriteRelease((long*)(_slot + ReaderSlotLayout.PositionOffset), _position);
        return true;
    }

    /// <summary>Marks the slot active, or re-arms it after an eviction; true when it had been evicted.</summary>
    public bool Activate() => IsOwned && ReaderTable.Activate(_slot);

    /// <summary>Moves the pin forward (always safe: the old pin protected the new position too) and wakes a writer waiting for space.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void MovePin(long pin)
    {
        if (IsOwned)
        {
            // Release: the writer reads pins in its scans (ReaderTable.MinPin).
            Atomic.WriteRelease(_pin, pin);
            NotifySpace();
        }
    }

    /// <summary>
    /// Pins <paramref name="value"/> directly: only for a value another pin of this thread protects right now (a record
    /// lease taken from a snapshot or reader). Store, activate, full fence: the writer's scans see this pin before the
    /// protecting pin can move (that move is a later store of this thread).
    /// </summary>
    public void PinProtected(long value)
    {
        EnsureOwned();
        Atomic.WriteRelease(_pin, value);
        ReaderTable.Activate(_slot);
        Atomic.FullFence();
    }

    /// <summary>
    /// Pins the oldest value <paramref name="oldest"/> holds (at least <paramref name="atLeast"/>) with the log's Dekker
    /// handshake; see <see cref="ReaderTable.PinOldest"/>. Returns the pinned value.
    /// </summary>
    public long PinOldest(long* oldest, long atLeast)
    {
        EnsureOwned();
        long pinned = ReaderTable.PinOldest(_slot, oldest, atLeast);
        NotifySpace();
        return pinned;
    }

    /// <summary>Publishes where the reader is (next sequence or byte position), for status only; nothing in the protocol reads it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PublishPosition(long position)
    {
        // A caught-up reader polling in a loop publishes the same value again and again: store only a change.
        if (position == _position)
        {
            return;
        }

        _position = position;
        if (IsOwned)
        {
            // Release: for inspection tools (GetStatus), which read reader slots before the writer's counters.
            Atomic.WriteRelease((long*)(_slot + ReaderSlotLayout.PositionOffset), position);
        }
    }

    /// <summary>Counts <paramref name="count"/> more records or bytes as lost and publishes the total.</summary>
    public void AddLost(long count)
    {
        _lost += count;
        if (IsOwned)
        {
            // Release: for inspection tools (GetStatus); nothing else reads it.
            Atomic.WriteRelease((long*)(_slot + ReaderSlotLayout.LostCountOffset), _lost);
        }
    }

    /// <summary>Wakes a writer that sleeps for space, only if one does (a load otherwise; see Signal.Notify).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void NotifySpace() => _space?.Notify();

    /// <summary>Gives the slot, the heartbeat and the mapping reference back.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Heartbeat.Unregister(_heartbeat!);
        _table.Release(SlotIndex, _ownerWord);

        // The released pin may free what a blocked writer waits for.
        NotifySpace();
        _region.Release();
    }

    private void Register()
    {
        int index = _table.Claim(_role, out long ownerWord);
        try
        {
            _heartbeat = Heartbeat.Register(_region, _table.SlotOffset(index), ownerWord);
        }
        catch
        {
            _table.Release(index, ownerWord);
            throw;
        }

        SlotIndex = index;
        _ownerWord = ownerWord;
        _slot = _table.Slot(index);
        _pin = (long*)(_slot + ReaderSlotLayout.PinOffset);
    }
}
