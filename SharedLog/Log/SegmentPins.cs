using SharedLog.Layout;
using SharedLog.Leases;
using SharedLog.Memory;

namespace SharedLog.Log;

/// <summary>
/// The segments this log handle keeps alive for record leases: one reader slot per leased segment, however many
/// leases (and clones) point into it, released with the last of them.
/// </summary>
/// <remarks>
/// Design: a lease is taken only while a snapshot or reader of the same thread pins the segment, so the new slot can
/// pin the generation directly (<see cref="ReaderLease.PinProtected"/>) and then check that the slot still holds it.
/// From then on the writer treats it as a reader that never moves: under <see cref="SlowReaderPolicy.Block"/> the
/// segment is not reused until the last lease is disposed (or the slow-reader timeout evicts it); under
/// <see cref="SlowReaderPolicy.Evict"/> it may be, and the leases then report the eviction. A process that dies
/// holding leases leaves dead reader slots, reaped like any dead reader's.
/// </remarks>
internal sealed unsafe class SegmentPins
{
    private readonly LogFile _log;
    private readonly Dictionary<long, Pin> _pins = [];

    public SegmentPins(LogFile log) => _log = log;

    /// <summary>One more lease on <paramref name="generation"/>, which the caller's snapshot or reader pins now.</summary>
    /// <exception cref="ReaderEvictedException">The segment was reused before it could be pinned.</exception>
    public Pin Acquire(long generation)
    {
        lock (_pins)
        {
            if (_pins.TryGetValue(generation, out var pin))
            {
                pin.Count++;
                return pin;
            }

            var lease = _log.Shared.LeaseReaderSlot(ReaderSlotLayout.RoleLease);
            var segment = _log.SegmentAt(generation);
            lease.PinProtected(generation);
            if (!segment.Holds(generation))
            {
                lease.Dispose();
                throw new ReaderEvictedException(
                    $"Segment {generation} of '{_log.FilePath}' was reused before the record could be leased. Refresh and lease again.");
            }

            pin = new Pin(this, generation, lease, segment);
            _pins.Add(generation, pin);
            return pin;
        }
    }

    /// <summary>One more lease on a pinned segment (a clone).</summary>
    public void AddRef(Pin pin)
    {
        lock (_pins)
        {
            ObjectDisposedException.ThrowIf(pin.Count == 0, pin);
            pin.Count++;
        }
    }

    /// <summary>One lease fewer; the last one gives the segment back.</summary>
    public void Release(Pin pin)
    {
        lock (_pins)
        {
            if (--pin.Count > 0)
            {
                return;
            }

            _pins.Remove(pin.Generation);
        }

        pin.Lease.Dispose();
    }

    /// <summary>A leased segment: its reader slot, how many leases share it, and memory over its data.</summary>
    internal sealed class Pin(SegmentPins owner, long generation, ReaderLease lease, Segment segment)
    {
        private MappedMemoryManager? _memory;

        public SegmentPins Owner { get; } = owner;

        public long Generation { get; } = generation;

        public ReaderLease Lease { get; } = lease;

        public Segment Segment { get; } = segment;

        /// <summary>Leases sharing the pin (guarded by the owner's lock).</summary>
        public int Count { get; set; } = 1;

        /// <summary>Whether the segment still holds the leased generation and the pin was not evicted (validation after use).</summary>
        public bool IsIntact => Segment.Holds(Generation) && !Lease.IsEvicted && Lease.IsOwned;

        /// <summary>Memory over the segment's data, made once per pin.</summary>
        public MappedMemoryManager Memory
            => Volatile.Read(ref _memory) ?? Interlocked.CompareExchange(ref _memory, new MappedMemoryManager(Segment.DataAddress, Owner._log.SegmentBytes), null) ?? _memory!;
    }
}
