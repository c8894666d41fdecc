using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SharedLog.Layout;
using SharedLog.Leases;
using SharedLog.Log;
using SharedLog.Memory;
using SharedLog.Ring;

namespace SharedLog.Diagnostics;

/// <summary>
/// The <c>SharedLog</c> <see cref="Meter"/>: observable instruments over every log and ring handle open in this
/// process, read from the shared file only when a listener collects them.
/// </summary>
/// <remarks>
/// Design: nothing here is on a hot path. Every instrument is observable: its callback walks the open handles
/// (<see cref="HandleRegistry"/>), takes a reference on each one's mapping (so a handle disposed meanwhile is never
/// read through a dangling pointer), and reads the counters the writer and readers keep in the file anyway. With no
/// listener no callback runs. Each measurement is tagged <c>sharedlog.path</c> and <c>sharedlog.kind</c>; two handles
/// on one path report once. Per-reader figures add <c>sharedlog.reader.slot</c> (bounded by MaxReaders). Reader
/// totals (lost, evicted) cover the readers attached now: a reader's slot and its counters go when it leaves, so they
/// are up-down counters, not counters.
/// </remarks>
internal static class SharedLogMeter
{
    /// <summary>The meter's name, for <c>dotnet-counters monitor --counters SharedLog</c> and <see cref="MeterListener"/>.</summary>
    public const string MeterName = "SharedLog";

    private const string PathTag = "sharedlog.path";
    private const string KindTag = "sharedlog.kind";
    private const string SlotTag = "sharedlog.reader.slot";

    private static readonly Meter s_meter = Create();

    /// <summary>Creates the meter and its instruments if they do not exist yet.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void EnsureCreated() => GC.KeepAlive(s_meter);

    private static Meter Create()
    {
        var meter = new Meter(MeterName, typeof(SharedLogMeter).Assembly.GetName().Version?.ToString());

        meter.CreateObservableCounter("sharedlog.log.records.appended", () => Logs(static (log, tags, into) => into.Add(new(log.ReadNextSequence(), tags))),
            "{record}", "Records appended since the log was created (its next sequence number).");
        meter.CreateObservableUpDownCounter("sharedlog.log.bytes.retained", () => Logs(static (log, tags, into) => into.Add(new(RetainedBytes(log), tags))),
            "By", "Bytes of committed records (with their 8-byte headers and padding) in the retained segments.");
        meter.CreateObservableCounter("sharedlog.log.segments.rolled", () => Logs(static (log, tags, into) => into.Add(new(ReadHeadGeneration(log), tags))),
            "{segment}", "Segment rolls since the log was created (the head segment's generation).");
        meter.CreateObservableUpDownCounter("sharedlog.log.readers", () => Logs(static (log, tags, into) => into.Add(new(Readers(log.Shared.Readers).Occupied, tags))),
            "{reader}", "Occupied reader slots (tailing readers and snapshots of any process).");
        meter.CreateObservableUpDownCounter("sharedlog.log.readers.evicted", () => Logs(static (log, tags, into) => into.Add(new(Readers(log.Shared.Readers).Evictions, tags))),
            "{eviction}", "Evictions of the readers attached now (a reader's count leaves with it).");
        meter.CreateObservableUpDownCounter("sharedlog.log.records.lost", () => Logs(static (log, tags, into) => into.Add(new(Readers(log.Shared.Readers).Lost, tags))),
            "{record}", "Records lost by the readers attached now (a reader's count leaves with it).");
        meter.CreateObservableGauge("sharedlog.log.reader.lag", () => Logs(static (log, tags, into) => AddLags(log.Shared.Readers, log.ReadNextSequence(), positionIsPin: false, tags, into)),
            "{record}", "Records between each tailing reader's published position and the next sequence.");

        meter.CreateObservableCounter("sharedlog.ring.bytes.written", () => Rings(static (ring, tags, into) => into.Add(new(ReadWriterPosition(ring), tags))),
            "By", "Bytes written since the ring was created (the writer position).");
        meter.CreateObservableUpDownCounter("sharedlog.ring.readers", () => Rings(static (ring, tags, into) => into.Add(new(Readers(ring.Readers).Occupied, tags))),
            "{reader}", "Occupied reader slots.");
        meter.CreateObservableUpDownCounter("sharedlog.ring.readers.evicted", () => Rings(static (ring, tags, into) => into.Add(new(Readers(ring.Readers).Evictions, tags))),
            "{eviction}", "Evictions of the readers attached now (a reader's count leaves with it).");
        meter.CreateObservableUpDownCounter("sharedlog.ring.bytes.lost", () => Rings(static (ring, tags, into) => into.Add(new(Readers(ring.Readers).Lost, tags))),
            "By", "Bytes lost by the readers attached now (a reader's count leaves with it).");
        meter.CreateObservableGauge("sharedlog.ring.reader.lag", () => Rings(static (ring, tags, into) => AddLags(ring.Readers, ReadWriterPosition(ring), positionIsPin: true, tags, into)),
            "By", "Bytes between each reader's position and the writer position.");
        return meter;
    }

    private static List<Measurement<long>> Logs(Action<LogFile, KeyValuePair<string, object?>[], List<Measurement<long>>> read)
        => Collect<SegmentedLog, LogFile>(static log => log.IsDisposed ? null : log.File, static file => file.Region, "log", read);

    private static List<Measurement<long>> Rings(Action<RingFile, KeyValuePair<string, object?>[], List<Measurement<long>>> read)
        => Collect<ByteRing, RingFile>(static ring => ring.IsDisposed ? null : ring.File, static file => file.Region, "ring", read);

    /// <summary>Reads every open handle of type <typeparamref name="THandle"/> (one per path) with its mapping held.</summary>
    private static List<Measurement<long>> Collect<THandle, TFile>(
        Func<THandle, TFile?> fileOf, Func<TFile, MappedRegion> regionOf, string kind, Action<TFile, KeyValuePair<string, object?>[], List<Measurement<long>>> read)
        where THandle : class
        where TFile : class
    {
        var measurements = new List<Measurement<long>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var handle in HandleRegistry.Live())
        {
            if (handle is not THandle typed || fileOf(typed) is not { } file)
            {
                continue;
            }

            var region = regionOf(file);
            if (!seen.Add(region.FilePath) || !TryAddRef(region))
            {
                continue;
            }

            try
            {
                read(file, [new(PathTag, region.FilePath), new(KindTag, kind)], measurements);
            }
            catch (SharedLogException)
            {
                // A corrupt file reports nothing rather than failing the listener's whole collection.
            }
            finally
            {
                region.Release();
            }
        }

        return measurements;
    }

    /// <summary>Takes a reference on the mapping unless its last one is gone (the handle and everything made from it were disposed).</summary>
    private static bool TryAddRef(MappedRegion region)
    {
        try
        {
            region.AddRef();
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    private static unsafe long ReadHeadGeneration(LogFile log) => Atomic.ReadAcquire(log.HeadGeneration);

    private static unsafe long ReadWriterPosition(RingFile ring) => Atomic.ReadAcquire(ring.WriterPosition);

    /// <summary>
    /// The committed bytes of the retained segments: for each one, where its last record ends. The file keeps no
    /// running byte total (and the append path gains no store for one), so this is what the window holds, not what was
    /// ever appended. A segment reused while it is read is skipped.
    /// </summary>
    private static unsafe long RetainedBytes(LogFile log)
    {
        var (oldest, head) = log.ReadWindow();
        if (!log.IsWindowValid(head, oldest))
        {
            return 0;
        }

        long total = 0;
        for (long generation = oldest; generation <= head; generation++)
        {
            var segment = log.SegmentAt(generation);
            int count = segment.ReadCount();
            if (count == 0 || !segment.TryRead(count - 1, 0, out var last))
            {
                continue;
            }

            // The last record's offset, from where its payload lies in the segment's data.
            long payload = (long)Unsafe.AsPointer(ref MemoryMarshal.GetReference(last.Payload));
            long end = payload - RecordLayout.HeaderLength - (long)segment.RecordAt(0) + RecordLayout.AlignedLength(last.Payload.Length);
            if (segment.Holds(generation))
            {
                total += end;
            }
        }

        return total;
    }

    private static (int Occupied, long Lost, long Evictions) Readers(ReaderTable table)
    {
        int occupied = 0;
        long lost = 0;
        long evictions = 0;
        for (int i = 0; i < table.Count; i++)
        {
            var slot = table.ReadCounters(i);
            if (slot.Pid != 0)
            {
                occupied++;
                lost += slot.LostCount;
                evictions += slot.Evictions;
            }
        }

        return (occupied, lost, evictions);
    }

    /// <summary>One lag per occupied tailing reader, tagged with its slot. Ring readers publish their position as their pin.</summary>
    private static void AddLags(ReaderTable table, long end, bool positionIsPin, KeyValuePair<string, object?>[] tags, List<Measurement<long>> into)
    {
        for (int i = 0; i < table.Count; i++)
        {
            var slot = table.ReadCounters(i);
            long position = positionIsPin ? slot.Pin : slot.Position;
            if (slot.Pid == 0 || slot.Role != ReaderSlotLayout.RoleReader || position is < 0 or ReaderSlotLayout.NoPin)
            {
                continue;
            }

            into.Add(new(Math.Max(0, end - position), [tags[0], tags[1], new(SlotTag, i)]));
        }
    }
}
