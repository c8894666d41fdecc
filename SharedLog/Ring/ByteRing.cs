using System.Diagnostics.CodeAnalysis;
using SharedLog.Files;
using SharedLog.Layout;
using SharedLog.Memory;
using SharedLog.Ring;

namespace SharedLog;

/// <summary>
/// A byte ring in a memory-mapped file: one writer process streams bytes, any number of processes read them, each
/// at its own 64-bit position, in place (two spans per read) or through <see cref="Stream"/> and
/// System.IO.Pipelines adaptors.
/// </summary>
/// <remarks>
/// <para>
/// Positions only grow; the byte at position <c>p</c> lives at <c>p % Capacity</c>. The ring keeps the last
/// <see cref="Capacity"/> bytes, less at most <c>Capacity / 64</c> (64 KiB at most) that the writer frees ahead in
/// one step instead of on every write: a reader can start at the oldest one still intact (<see cref="ReadFrom.Oldest"/>) or
/// at the writer (<see cref="ReadFrom.Latest"/>) and seek anywhere in between. With no live reader the writer never
/// waits. Otherwise <see cref="SharedLog.SlowReaderPolicy.Block"/> makes it wait for the slowest live reader (up to the
/// slow-reader timeout, then that reader is evicted), and <see cref="SharedLog.SlowReaderPolicy.Evict"/> lets it
/// overwrite; a reader that was overwritten finds out after reading, counts the loss exactly in
/// <see cref="RingReader.LostBytes"/> and resumes at the oldest intact byte.
/// </para>
/// <para>
/// A <see cref="ByteRing"/> is a handle to the file; the writer and readers it creates keep the mapping alive until
/// they are disposed too. Handles are thread-safe; writers and readers are each for one thread at a time.
/// </para>
/// </remarks>
public sealed class ByteRing : IDisposable
{
    private readonly RingFile _ring;
    private readonly bool _deleteOnDispose;
    private volatile bool _disposed;

    private ByteRing(RingFile ring, bool deleteOnDispose = false)
    {
        _ring = ring;
        _deleteOnDispose = deleteOnDispose;
        OpenHandles.Opened(this);
    }

    /// <summary>The path of the backing file.</summary>
    public string FilePath => _ring.FilePath;

    /// <summary>Data bytes in the ring (a power of two).</summary>
    public int Capacity => Live.Capacity;

    /// <summary>Reader slots in the file.</summary>
    public int MaxReaders => Live.MaxReaders;

    /// <summary>What the writer does about slow readers.</summary>
    public SlowReaderPolicy SlowReaderPolicy => Live.Policy;

    /// <summary>How long a blocked writer waits before evicting under <see cref="SharedLog.SlowReaderPolicy.Block"/>.</summary>
    public TimeSpan SlowReaderTimeout => Live.SlowReaderTimeout;

    /// <summary>The end of the published bytes: the number of bytes ever written.</summary>
    public long WriterPosition
    {
        get
        {
            ThrowIfDisposed();
            unsafe
            {
                return Atomic.ReadAcquire(_ring.WriterPosition);
            }
        }
    }

    /// <summary>
    /// The oldest byte still intact and not being overwritten: a reader can seek from here to
    /// <see cref="WriterPosition"/>. This is the writer's intended tail, which runs ahead of the tail only while the
    /// writer is raising it. Once the ring has wrapped it is at least <c>WriterPosition - Capacity</c> and less than
    /// <c>WriterPosition - Capacity + Capacity / 64</c> (plus free space the writer has handed out and not yet
    /// published): the writer frees space in chunks of <c>Capacity / 64</c> bytes (at most 64 KiB), so small writes do
    /// not each move the tail.
    /// </summary>
    public long OldestPosition
    {
        get
        {
            ThrowIfDisposed();
            unsafe
            {
                return Atomic.ReadAcquire(_ring.TailIntent);
            }
        }
    }

    /// <summary>Whether the writer completed the stream.</summary>
    public bool IsCompleted
    {
        get
        {
            ThrowIfDisposed();
            unsafe
            {
                return Atomic.ReadAcquire(_ring.CompletedPosition) != RingLayout.NotCompleted;
            }
        }
    }

    /// <summary>The pid of the process holding the writer lease, or 0 when none does.</summary>
    public int WriterProcessId
    {
        get
        {
            ThrowIfDisposed();
            unsafe
            {
                return _ring.Shared.DescribeWriter().Pid;
            }
        }
    }

    internal bool IsDisposed => _disposed;

    /// <summary>The slowest pin at the writer's last reader-table scan, as the writer recorded it (for tests and tools).</summary>
    internal long CachedMinReaderPosition
    {
        get
        {
            unsafe
            {
                return Atomic.ReadAcquire(_ring.CachedMinReaderPosition);
            }
        }
    }

    internal RingFile File => _ring;

    /// <summary>Creates a new ring file. Fails if one exists under that name.</summary>
    /// <exception cref="ArgumentException">The name or options are invalid.</exception>
    /// <exception cref="SharedLogException">The file exists, or space cannot be reserved for it.</exception>
    public static ByteRing Create(string name, ByteRingOptions? options = null)
    {
        options ??= new ByteRingOptions();
        return new ByteRing(RingFile.Create(FileStore.ResolvePath(name, options.Directory), options), options.DeleteOnDispose);
    }

    /// <summary>Creates a new ring file and claims its writer.</summary>
    public static (RingWriter Writer, ByteRing Ring) CreateClaimed(string name, ByteRingOptions? options = null)
    {
        var ring = Create(name, options);
        if (!ring.TryClaimWriter(out var writer))
        {
            ring.Dispose();
            throw new SharedLogException($"Another process claimed the writer of '{ring.FilePath}' as soon as it was created.");
        }

        return (writer, ring);
    }

    /// <summary>Opens an existing ring file, validating it completely before use.</summary>
    /// <exception cref="SharedLogException">The file does not exist or cannot be mapped.</exception>
    /// <exception cref="SharedLogFormatException">The file is not a valid, compatible ring.</exception>
    public static ByteRing Open(string name, string? directory = null)
        => new(RingFile.Open(FileStore.ResolvePath(name, directory)));

    /// <summary>
    /// Opens an existing ring file for inspection only, mapped without write access: <see cref="GetStatus"/> and the
    /// properties work; readers and the writer throw <see cref="InvalidOperationException"/>.
    /// </summary>
    /// <exception cref="SharedLogException">The file does not exist or cannot be mapped.</exception>
    /// <exception cref="SharedLogFormatException">The file is not a valid, compatible ring.</exception>
    public static ByteRing OpenReadOnly(string name, string? directory = null)
        => new(RingFile.Open(FileStore.ResolvePath(name, directory), readOnly: true));

    /// <summary>
    /// Opens an existing ring file, waiting up to <paramref name="waitForCreation"/> for it to be created: for readers
    /// that start before the writer.
    /// </summary>
    /// <exception cref="SharedLogException">The file did not appear in time, or cannot be mapped.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    public static ByteRing Open(string name, string? directory, TimeSpan waitForCreation, CancellationToken cancellationToken = default)
    {
        string path = FileStore.ResolvePath(name, directory);
        return FileStore.OpenWhenCreated(path, () => new ByteRing(RingFile.Open(path)), waitForCreation, cancellationToken);
    }

    /// <summary>Opens the ring if it exists, or creates it with <paramref name="options"/> (racing creators settle on one file).</summary>
    /// <exception cref="ArgumentException">The file exists with parameters that contradict <paramref name="options"/> (the message names the field).</exception>
    public static ByteRing OpenOrCreate(string name, ByteRingOptions? options = null)
    {
        var ring = FileStore.OpenOrCreate(FileStore.ResolvePath(name, options?.Directory), () => Open(name, options?.Directory), () => Create(name, options));
        if (options is not null && !ring._deleteOnDispose)
        {
            try
            {
                ring.CheckMatches(options);
            }
            catch
            {
                ring.Dispose();
                throw;
            }
        }

        return ring;
    }

    /// <summary>Deletes the ring file. Processes that have it open keep their mapping. Returns false if there was none.</summary>
    public static bool Delete(string name, string? directory = null)
        => FileStore.Delete(FileStore.ResolvePath(name, directory));

    /// <summary>
    /// Claims the writer if no live process holds it. A lease whose owner died is taken over at once, and the new
    /// writer continues at the position the dead one last published.
    /// </summary>
    public bool TryClaimWriter([NotNullWhen(true)] out RingWriter? writer)
    {
        ThrowIfDisposed();
        var lease = _ring.Shared.TryClaimWriter();
        writer = lease is null ? null : new RingWriter(new RingProducer(_ring, lease));
        return writer is not null;
    }

    /// <summary>Creates a reader at the oldest intact byte or at the writer position.</summary>
    /// <param name="from">Where the reader starts.</param>
    /// <param name="idle">How the reader's waits idle; null for <see cref="IdleStrategy.Default"/> (a short spin, then block).</param>
    /// <exception cref="SharedLogException">The reader table is full.</exception>
    public RingReader CreateReader(ReadFrom from = ReadFrom.Oldest, IdleStrategy? idle = null)
    {
        ThrowIfDisposed();
        if (from is not (ReadFrom.Oldest or ReadFrom.Latest))
        {
            throw new ArgumentOutOfRangeException(nameof(from));
        }

        return new RingReader(new RingConsumer(this, _ring, from, idle));
    }

    /// <summary>Describes the ring's positions, writer lease and reader table at this instant (for inspection tools).</summary>
    public RingStatus GetStatus()
    {
        var ring = Live;

        // Reader slots first: no reader appears ahead of the writer position read afterwards.
        var readers = ring.Readers.DescribeOccupied(positionIsPin: true);
        unsafe
        {
            long tail = Atomic.ReadAcquire(ring.TailIntent);
            long writer = Atomic.ReadAcquire(ring.WriterPosition);
            bool completed = Atomic.ReadAcquire(ring.CompletedPosition) != RingLayout.NotCompleted;
            var (writerPid, liveness) = ring.Shared.DescribeWriter();
            return new RingStatus(ring.Capacity, writer, tail, completed, writerPid, writerPid != 0 && liveness != Platform.Liveness.Dead,
                Leases.ReaderTable.ToStatus(readers, writer));
        }
    }

    /// <summary>Closes this handle. The mapping stays until the writer and readers made from it are disposed; their waits end.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        OpenHandles.Closed(this);

        // Waits of this handle's readers end: their probes see the handle disposed.
        _ring.DataSignal.KickLocalWaiters();
        if (_deleteOnDispose && _ring.Shared.IsStillNamed())
        {
            FileStore.Delete(_ring.FilePath);
        }

        _ring.Region.Release();
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first parameter of the file that <paramref name="options"/> contradict.</summary>
    private void CheckMatches(ByteRingOptions options)
    {
        ParameterCheck.ThrowIfContradicts("ring", _ring.FilePath, "Capacity", _ring.Capacity, options.Capacity);
        _ring.Shared.Header.ThrowIfContradicts("ring", _ring.FilePath, options.MaxReaders, options.SlowReaderPolicy, options.SlowReaderTimeout);
    }

    /// <summary>The file, after checking that this handle is not disposed.</summary>
    private RingFile Live
    {
        get
        {
            ThrowIfDisposed();
            return _ring;
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowDisposed(nameof(ByteRing));
        }
    }
}
