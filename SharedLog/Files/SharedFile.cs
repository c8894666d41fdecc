using System.Runtime.CompilerServices;
using SharedLog.Layout;
using SharedLog.Leases;
using SharedLog.Memory;
using SharedLog.Platform;
using SharedLog.Waiting;

namespace SharedLog.Files;

/// <summary>
/// What every SharedLog file has, whatever its kind: the mapping, the validated common header, the reader table, the
/// data and space signals and the writer lease block. The log's and the ring's files are built on one.
/// </summary>
/// <remarks>
/// Design: a <see cref="SharedFile"/> exists only for a mapping whose header passed <see cref="FileHeader.Read"/> (or
/// that this process created), so every offset it hands out is inside the mapping. It owns one reference on the
/// region; writers, readers and snapshots take their own through their leases.
/// </remarks>
internal sealed unsafe class SharedFile
{
    /// <summary>How long a count of the readers (<see cref="ReadersCrowdCores"/>) stands before it is taken again.</summary>
    private const long CrowdRecountMs = 100;

    // The time and the answer of the last count, shared by this process's readers of the file: a reader that sees a
    // stale pair only idles by the count before, for up to one more recount period.
    private long _crowdCountedMs = long.MinValue / 2;
    private volatile bool _crowded;

    private SharedFile(MappedRegion region, in FileHeader header)
    {
        Region = region;
        Header = header;
        Readers = new ReaderTable(region, FileLayout.ReaderTableOffset, header.MaxReaders);
        DataSignal = new Signal(region, FileLayout.DataSignalOffset, FileLayout.DataWaitersOffset);
        SpaceSignal = new Signal(region, FileLayout.SpaceSignalOffset, FileLayout.SpaceWaitersOffset);
    }

    public MappedRegion Region { get; }

    public FileHeader Header { get; }

    public string FilePath => Region.FilePath;

    public byte* Base => Region.Base;

    public ReaderTable Readers { get; }

    /// <summary>Readers sleep here for data; the writer notifies after it publishes.</summary>
    public Signal DataSignal { get; }

    /// <summary>The writer sleeps here for space under Block; readers notify when they move or drop a pin.</summary>
    public Signal SpaceSignal { get; }

    /// <summary>The space signal when the writer waits for readers (Block), null when it never does (Evict).</summary>
    public Signal? SpaceSignalForReaders => Header.Policy == SlowReaderPolicy.Block ? SpaceSignal : null;

    /// <summary>
    /// Whether the readers of this file and its writer outnumber the machine's cores (<see cref="Crowd"/>): a reader
    /// that spins while it waits then takes a core that the writer or another reader needs. Counted from the reader
    /// table at most every <see cref="CrowdRecountMs"/> ms, once for every reader of this process on this file; read it
    /// only while the mapping is held (a read or a wait inside its gate).
    /// </summary>
    public bool ReadersCrowdCores
        => Environment.TickCount64 - Volatile.Read(ref _crowdCountedMs) >= CrowdRecountMs ? CountCrowd() : _crowded;

    /// <summary>
    /// Whether a reader, or the writer waiting for space, idling by <paramref name="idle"/> should yield where it would
    /// spin: a blocking strategy (the default) while <see cref="ReadersCrowdCores"/>. Busy-spin, yielding and backoff
    /// strategies idle as their users chose.
    /// </summary>
    public bool YieldsForCrowd(IdleStrategy idle) => idle.Blocks && ReadersCrowdCores;

    /// <summary>The idler of one wait by <paramref name="idle"/>: yielding where it would spin while <see cref="YieldsForCrowd"/>.</summary>
    public Idler IdlerFor(IdleStrategy idle) => new(idle, YieldsForCrowd(idle));

    /// <summary>
    /// The rule: <paramref name="readers"/> readers and one writer crowd <paramref name="cores"/> cores when they are
    /// more than the cores. One reader beside its writer on two cores spins; a second one would share a core.
    /// </summary>
    public static bool Crowd(int readers, int cores) => readers + 1 > cores;

    /// <summary>
    /// Counts the readers now (a scan of the reader table) and keeps the answer for <see cref="CrowdRecountMs"/> ms.
    /// Out of line: <see cref="ReadersCrowdCores"/> calls it at most that often. Compiled optimised at once: called a
    /// few times a second, it would otherwise reach tiered compilation's 30 calls seconds into a run and be recompiled
    /// there (the benchmark suite saw warm-ups time out that way).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public bool CountCrowd()
    {
        bool crowded = Crowd(Readers.CountReaders(), MachineCores.Online);
        _crowded = crowded;

        // Release, after the answer: pairs with the acquire in ReadersCrowdCores, which reads the answer after the time.
        Volatile.Write(ref _crowdCountedMs, Environment.TickCount64);
        return crowded;
    }

    /// <summary>Creates a new file of kind <typeparamref name="T"/>: temporary name, space reserved, header and data written, then linked.</summary>
    public static SharedFile Create<T>(string path, in FileHeader header, T parameters, UnixFileMode permissions)
        where T : IKindParameters<T>
    {
        var fileHeader = header;
        var region = FileStore.Create(path, fileHeader.FileLength, permissions, r =>
        {
            byte* b = r.Base;
            new Span<byte>(b, (int)fileHeader.DataOffset).Clear();
            fileHeader.Write(b);
            parameters.Write(b);
            FileHeader.Seal(b);
            for (int i = 0; i < fileHeader.MaxReaders; i++)
            {
                *(long*)(b + FileLayout.ReaderTableOffset + ((long)i * ReaderSlotLayout.Length) + ReaderSlotLayout.PinOffset) = ReaderSlotLayout.NoPin;
            }

            parameters.Initialise(b, fileHeader);
        });
        return new SharedFile(region, fileHeader);
    }

    /// <summary>
    /// Maps an existing file of kind <typeparamref name="T"/> and checks its header and parameters before any
    /// pointer escapes. The caller owns the returned file's region reference.
    /// </summary>
    public static SharedFile Open<T>(string path, out T parameters, bool readOnly = false)
        where T : IKindParameters<T>
    {
        var region = FileStore.Open(path, FileLayout.HeaderLength, readOnly);
        try
        {
            var header = FileHeader.Read(region, T.Kind, T.KindName);
            parameters = T.Read(region.Base, ParameterCheck.ForFile(path));
            if (header.FileLength != header.DataOffset + parameters.DataLength)
            {
                ParameterCheck.ForFile(path).Fail("FileLength", header.FileLength, $"{header.DataOffset + parameters.DataLength} for its parameters");
            }

            if (region.Length != header.FileLength && !parameters.MayGrow)
            {
                throw FileHeader.LengthMismatch(path, region.Length, header.FileLength);
            }

            return new SharedFile(region, header);
        }
        catch
        {
            region.Release();
            throw;
        }
    }

    /// <summary>Whether the file under this file's name is still this one (see <see cref="FileStore.IsSameFile"/>).</summary>
    public bool IsStillNamed() => FileStore.IsSameFile(FilePath, Header.FileId, out _);

    /// <summary>Claims the writer lease if it is free or its owner is dead; null when a live process holds it.</summary>
    public WriterLease? TryClaimWriter()
    {
        ThrowIfReadOnly("claim the writer");
        return WriterLease.TryClaim(Region, FileLayout.WriterOwnerOffset);
    }

    /// <summary>Throws <see cref="InvalidOperationException"/> for an operation that writes, on a file opened read-only.</summary>
    public void ThrowIfReadOnly(string operation)
    {
        if (Region.IsReadOnly)
        {
            ThrowHelper.ThrowInvalidOperation($"'{FilePath}' was opened read-only (for inspection): it cannot {operation}. Open it with Open to read or write.");
        }
    }

    /// <summary>Who holds the writer lease and whether the OS says it lives.</summary>
    public (int Pid, Liveness Liveness) DescribeWriter() => WriterLease.Describe(Region, FileLayout.WriterOwnerOffset);

    /// <summary>The pid of the writer lease holder if the OS says it is dead, else 0 (no holder, alive, or unknown).</summary>
    public int DeadWriterPid()
    {
        var (pid, liveness) = DescribeWriter();
        return pid != 0 && liveness == Liveness.Dead ? pid : 0;
    }

    /// <summary>Claims a reader slot for a reader or snapshot of this file.</summary>
    public ReaderLease LeaseReaderSlot(int role)
    {
        ThrowIfReadOnly("take a reader slot (readers, snapshots and leases take one)");
        return new(Readers, role, SpaceSignalForReaders);
    }
}
