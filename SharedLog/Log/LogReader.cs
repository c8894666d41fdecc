using System.Runtime.CompilerServices;
using SharedLog.Log;
using SharedLog.Waiting;

namespace SharedLog;

/// <summary>
/// A tailing cursor over a <see cref="SegmentedLog"/>, in this or any other process. Not thread-safe: one thread
/// reads at a time.
/// </summary>
/// <remarks>
/// The reader owns one reader slot and pins the segment it reads, so under <see cref="SlowReaderPolicy.Block"/> the
/// writer never overwrites it. Records are read in place and validated after use (seqlock style): a record overwritten
/// while it was held counts in <see cref="LostCount"/>, and the reader resumes at the oldest retained record. Waiting
/// idles by the reader's <see cref="IdleStrategy"/> on the log's data signal; every pin move or release wakes a writer
/// blocked for space only if it sleeps.
/// </remarks>
public sealed class LogReader : IDisposable
{
    private readonly LogCursor _core;

    internal LogReader(LogCursor core) => _core = core;

    /// <summary>The sequence number of the next record <see cref="TryRead"/> returns.</summary>
    public long NextSequence => _core.NextSequence;

    /// <summary>Records this reader lost because the writer overwrote them before they were read (or while one was held).</summary>
    public long LostCount => _core.LostCount;

    /// <summary>How <see cref="Wait(TimeSpan)"/> idles while no record is available. Default <see cref="IdleStrategy.Blocking"/>.</summary>
    public IdleStrategy IdleStrategy
    {
        get => _core.IdleStrategy;
        set => _core.IdleStrategy = value;
    }

    /// <summary>The reader-table slot this reader occupies (for diagnostics).</summary>
    public int SlotIndex => _core.SlotIndex;

    /// <summary>True once the writer completed the log and this reader has read up to its end.</summary>
    public bool IsCompleted => _core.IsCompleted;

    /// <summary>Whether a record is available now.</summary>
    public bool HasData => _core.HasData;

    /// <summary>
    /// Returns the next record, or false when the reader has caught up with the writer. The record's payload is in
    /// place and valid until the next call on this reader.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryRead(out LogRecord record) => _core.TryRead(out record);

    /// <summary>
    /// A lease on the record last returned by <see cref="TryRead"/>: it keeps the record's segment alive after this
    /// reader moves on, until the lease (and its clones) are disposed. Call it before the next call on this reader.
    /// </summary>
    /// <exception cref="InvalidOperationException">No single record is held (nothing read yet, a batch, or already validated).</exception>
    /// <exception cref="ReaderEvictedException">The record was overwritten before it could be leased.</exception>
    public RecordLease Lease() => _core.LeaseHeld();

    /// <summary>
    /// Reads up to <paramref name="maxRecords"/> records at once, in place, for consumers that drain bursts: one
    /// validation for the whole batch instead of one per record. False when the reader has caught up.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRecords"/> is less than 1.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryReadBatch(int maxRecords, out LogBatch batch) => _core.TryReadBatch(maxRecords, out batch);

    /// <summary>The longest <see cref="TryReadBatch(int, int, TimeSpan, out LogBatch)"/> lingers: 1 ms.</summary>
    public static TimeSpan MaxReadDelay => ReadDelay.Max;

    /// <summary>
    /// Like <see cref="TryReadBatch(int, out LogBatch)"/>, but while some records and fewer than
    /// <paramref name="minRecords"/> are there it first lingers, up to <paramref name="maxDelay"/>, for the writer to
    /// append more. For a consumer of a stream of small records that wants throughput: it takes fewer, larger batches,
    /// and a reader that does not chase every record leaves the writer's cache lines alone while it fills them. Each
    /// record may reach the reader up to <paramref name="maxDelay"/> later. False at once when nothing is there (then
    /// <see cref="Wait(TimeSpan)"/> as usual); the linger also ends at the end of a segment and when the log is completed.
    /// </summary>
    /// <param name="maxRecords">The most records in the batch: at least 1.</param>
    /// <param name="minRecords">How many records make a batch worth taking at once: 0 to <paramref name="maxRecords"/>.</param>
    /// <param name="maxDelay">The longest the read lingers: 0 to <see cref="MaxReadDelay"/>. The linger spins on this
    /// thread (it yields instead when <see cref="IdleStrategy"/> is <see cref="IdleStrategy.Yielding"/>, or blocking
    /// among readers that outnumber the cores); a few
    /// microseconds suit a flowing stream.</param>
    /// <param name="batch">The records, in place, until the next call on this reader.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryReadBatch(int maxRecords, int minRecords, TimeSpan maxDelay, out LogBatch batch)
        => _core.TryReadBatch(maxRecords, minRecords, maxDelay, out batch);

    /// <summary>
    /// True when the record last returned by <see cref="TryRead"/> (or every record of the batch last returned by
    /// <see cref="TryReadBatch(int, out LogBatch)"/>) was not overwritten while it was held. When false, those records count in
    /// <see cref="LostCount"/> and the reader resumes at the oldest retained record.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Validate() => _core.Validate();

    /// <summary>
    /// Waits until a record is available or the timeout passes, idling by <see cref="IdleStrategy"/>. True when data
    /// is available; false on timeout, or when the log is disposed with nothing left to read.
    /// </summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits until data arrives.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Wait(TimeSpan timeout) => _core.Wait(timeout, CancellationToken.None);

    /// <summary>
    /// Waits until a record is available, the timeout passes (false) or <paramref name="cancellationToken"/> is
    /// cancelled (<see cref="OperationCanceledException"/>). Disposing the reader or its log from another thread ends
    /// the wait promptly.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Wait(TimeSpan timeout, CancellationToken cancellationToken) => _core.Wait(timeout, cancellationToken);

    /// <summary>
    /// Completes true when a record is available, false when this reader or its log is disposed while waiting;
    /// throws <see cref="OperationCanceledException"/> on cancellation. No thread is held while it waits (one
    /// dispatcher thread per signal of the log handle sleeps for all its async waits), and steady-state waits allocate nothing.
    /// </summary>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken = default) => _core.WaitAsync(Timeout.InfiniteTimeSpan, cancellationToken);

    /// <summary>
    /// Like <see cref="WaitAsync(CancellationToken)"/>, and also completes false when <paramref name="timeout"/>
    /// passes first.
    /// </summary>
    public ValueTask<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => _core.WaitAsync(timeout, cancellationToken);

    /// <summary>
    /// Reads every record as an owned copy, for <c>await foreach</c>: records already retained, then each one as it is
    /// appended, until the writer completes the log (the sequence ends) or this reader or its log is disposed. Each copy
    /// is validated after it is taken, so an overwritten record is never yielded (it counts in <see cref="LostCount"/>
    /// instead; compare it, or the yielded sequence numbers, to see gaps). Allocates one array per record: the
    /// zero-copy path is <see cref="TryRead"/>.
    /// </summary>
    /// <exception cref="WriterDiedException">The writer died without completing the log, after every record it committed was yielded.</exception>
    /// <exception cref="FileReplacedException">The file was deleted or replaced while it was open.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public async IAsyncEnumerable<OwnedLogRecord> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            while (TryReadCopy() is { } record)
            {
                yield return record;
            }

            if (!await _core.WaitAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false) && !_core.HasData)
            {
                yield break;
            }
        }
    }

    /// <summary>Gives the reader slot back.</summary>
    public void Dispose() => _core.Dispose();

    /// <summary>The next record as an owned copy, validated after copying; null when caught up.</summary>
    private OwnedLogRecord? TryReadCopy()
    {
        while (_core.TryRead(out var record))
        {
            var copy = new OwnedLogRecord(record.Sequence, record.TypeId, record.Payload.ToArray());
            if (_core.Validate())
            {
                return copy;
            }
        }

        return null;
    }
}
