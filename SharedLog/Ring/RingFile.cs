using System.Runtime.CompilerServices;
using SharedLog.Files;
using SharedLog.Layout;
using SharedLog.Leases;
using SharedLog.Memory;
using SharedLog.Waiting;

namespace SharedLog.Ring;

/// <summary>
/// A byte ring's file: the shared file underneath, the ring's capacity and hot counters, and typed access to them.
/// Data indexes are always <c>position &amp; Mask</c>, so no position read from the mapping can address outside the
/// data.
/// </summary>
internal sealed unsafe class RingFile
{
    private RingFile(SharedFile file, in RingParameters parameters)
    {
        Shared = file;
        Capacity = parameters.Capacity;
        Mask = parameters.Capacity - 1;
        Data = file.Region.At(file.Header.DataOffset, parameters.Capacity);
    }

    /// <summary>The file underneath: header, reader table, signals, writer lease.</summary>
    public SharedFile Shared { get; }

    public MappedRegion Region => Shared.Region;

    public int Capacity { get; }

    public long Mask { get; }

    public int MaxReaders => Shared.Header.MaxReaders;

    public SlowReaderPolicy Policy => Shared.Header.Policy;

    public TimeSpan SlowReaderTimeout => Shared.Header.SlowReaderTimeout;

    public ReaderTable Readers => Shared.Readers;

    /// <summary>Readers sleep on it while they wait for data; the writer notifies after each publish and on completion.</summary>
    public Signal DataSignal => Shared.DataSignal;

    /// <summary>The writer sleeps on it while it waits for space; readers notify when they move or drop a pin.</summary>
    public Signal SpaceSignal => Shared.SpaceSignal;

    public string FilePath => Shared.FilePath;

    public byte* Data { get; }

    public long* WriterPosition => (long*)(Shared.Base + RingLayout.WriterPositionOffset);

    public long* TailPosition => (long*)(Shared.Base + RingLayout.TailPositionOffset);

    public long* TailIntent => (long*)(Shared.Base + RingLayout.TailIntentOffset);

    public long* CompletedPosition => (long*)(Shared.Base + RingLayout.CompletedPositionOffset);

    public long* CachedMinReaderPosition => (long*)(Shared.Base + RingLayout.CachedMinReaderPositionOffset);

    public long* JoinSequence => (long*)(Shared.Base + RingLayout.JoinSequenceOffset);

    /// <summary>Creates a new ring file.</summary>
    public static RingFile Create(string path, ByteRingOptions options)
    {
        var parameters = RingParameters.Plan(options);
        var header = FileHeader.Plan(FileLayout.KindRing, options.MaxReaders, options.SlowReaderPolicy, options.SlowReaderTimeout, parameters.DataLength);
        return Wrap(SharedFile.Create(path, header, parameters, options.Permissions), parameters);
    }

    /// <summary>Opens and checks an existing ring file; throws <see cref="SharedLogFormatException"/> naming what is wrong.</summary>
    public static RingFile Open(string path, bool readOnly = false)
    {
        var file = SharedFile.Open(path, out RingParameters parameters, readOnly);
        return Wrap(file, parameters);
    }

    /// <summary>The pid of the writer lease holder if the OS says it is dead, else 0 (no holder, alive, or unknown).</summary>
    public int DeadWriterPid() => Shared.DeadWriterPid();

    /// <summary>The index of <paramref name="position"/> in the data.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int IndexOf(long position) => (int)(position & Mask);

    /// <summary>
    /// Splits <paramref name="length"/> bytes from <paramref name="position"/> at the wrap: the first part runs to the
    /// end of the data (or ends earlier), the second restarts at index 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Split(long position, int length, out int index, out int firstLength, out int secondLength)
    {
        index = IndexOf(position);
        firstLength = Math.Min(length, Capacity - index);
        secondLength = length - firstLength;
    }

    /// <summary>Copies bytes at a position out of the data (no validation: the caller validates afterwards).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CopyOut(long position, Span<byte> destination)
    {
        Split(position, destination.Length, out int index, out int first, out int second);
        SmallCopy.Copy(new ReadOnlySpan<byte>(Data + index, first), destination);
        if (second > 0)
        {
            new ReadOnlySpan<byte>(Data, second).CopyTo(destination[first..]);
        }
    }

    /// <summary>Copies bytes into the data at a position the writer has reserved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CopyIn(long position, ReadOnlySpan<byte> source)
    {
        Split(position, source.Length, out int index, out int first, out int second);
        SmallCopy.Copy(source[..first], new Span<byte>(Data + index, first));
        if (second > 0)
        {
            source[first..].CopyTo(new Span<byte>(Data, second));
        }
    }

    /// <summary>
    /// Checks the hot counters against the invariants in <see cref="RingLayout"/>. They are read in an order that keeps
    /// the checks true while a live writer moves them: writer position, tail, intent, completed, writer position again.
    /// </summary>
    public void ValidatePositions()
    {
        long before = Atomic.ReadAcquire(WriterPosition);
        long tail = Atomic.ReadAcquire(TailPosition);
        long intent = Atomic.ReadAcquire(TailIntent);
        long completed = Atomic.ReadAcquire(CompletedPosition);
        long after = Atomic.ReadAcquire(WriterPosition);
        if (before < 0 || after < before || after > RingLayout.MaxPosition)
        {
            ThrowHelper.ThrowCorrupt(FilePath, $"its writer position {after} is out of range");
        }

        if (tail < 0 || tail < before - Capacity || intent < tail || intent > after)
        {
            ThrowHelper.ThrowCorrupt(FilePath,
                $"its tail {tail} and tail intent {intent} do not fit writer position {after} and capacity {Capacity}");
        }

        if (completed != RingLayout.NotCompleted && (completed < 0 || completed > after))
        {
            ThrowHelper.ThrowCorrupt(FilePath, $"its completed position {completed} is beyond the writer position {after}");
        }
    }

    private static RingFile Wrap(SharedFile file, in RingParameters parameters)
    {
        try
        {
            var ring = new RingFile(file, parameters);
            ring.ValidatePositions();
            return ring;
        }
        catch
        {
            file.Region.Release();
            throw;
        }
    }
}
