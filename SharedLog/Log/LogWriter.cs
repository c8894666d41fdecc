using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SharedLog.Log;

namespace SharedLog;

/// <summary>
/// The single writer of a <see cref="SegmentedLog"/>. Holds the writer lease until disposed. Not thread-safe: one
/// thread appends at a time.
/// </summary>
/// <remarks>
/// Every write path checks first that this process still holds the lease, so a writer whose lease was taken over
/// (possible only through the heartbeat fallback) stops before it writes anything. A claim or record writer is
/// discarded by the next append, claim or record; committing it then throws. After <see cref="Dispose"/> every member
/// throws <see cref="ObjectDisposedException"/>, and nothing reachable through an old claim or record writer writes to
/// the file.
/// </remarks>
public sealed class LogWriter : IDisposable
{
    private readonly LogAppender _core;
    private LogRecordWriter? _recordWriter;

    internal LogWriter(LogAppender core) => _core = core;

    /// <summary>The sequence number the next append gets.</summary>
    public long NextSequence => _core.NextSequence;

    /// <summary>
    /// How the writer waits for a slow reader to free a segment under <see cref="SlowReaderPolicy.Block"/>.
    /// Default <see cref="IdleStrategy.Blocking"/>.
    /// </summary>
    public IdleStrategy IdleStrategy
    {
        get => _core.IdleStrategy;
        set => _core.IdleStrategy = value;
    }

    /// <summary>The largest payload one record can hold (a segment's bytes less the record header).</summary>
    public int MaxPayloadLength => _core.MaxPayloadLength;

    /// <summary>Appends a record with type id 0 and returns its sequence number. Under <see cref="SlowReaderPolicy.Block"/> it may wait for slow readers.</summary>
    /// <exception cref="SharedLogException">This process no longer holds the writer lease.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long Append(ReadOnlySpan<byte> payload) => _core.Append(payload, 0);

    /// <summary>Appends a record with a user type id and returns its sequence number.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long Append(ReadOnlySpan<byte> payload, int typeId) => _core.Append(payload, typeId);

    /// <summary>Appends the bytes of an unmanaged value as a record with type id 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long Append<T>(in T value)
        where T : unmanaged
        => _core.Append(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)), 0);

    /// <summary>Appends the bytes of an unmanaged value with a user type id.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long Append<T>(in T value, int typeId)
        where T : unmanaged
        => _core.Append(MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)), typeId);

    /// <summary>Appends unless that would mean waiting for a slow reader; then returns false and appends nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryAppend(ReadOnlySpan<byte> payload, out long sequence) => _core.TryAppend(payload, 0, out sequence);

    /// <summary>Appends with a type id unless that would mean waiting for a slow reader.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryAppend(ReadOnlySpan<byte> payload, int typeId, out long sequence) => _core.TryAppend(payload, typeId, out sequence);

    /// <summary>
    /// Reserves <paramref name="length"/> payload bytes in place. Write <see cref="LogClaim.Span"/>, then call
    /// <see cref="LogClaim.Commit()"/>; an uncommitted claim is discarded by the next append, claim or record.
    /// </summary>
    public LogClaim Claim(int length, int typeId = 0)
    {
        long sequence = _core.NextSequence;
        var span = _core.Claim(length, typeId);
        return new LogClaim(_core, span, sequence, _core.Reservation);
    }

    /// <summary>
    /// Starts a record written through <see cref="System.Buffers.IBufferWriter{T}"/> (for serializers), or through
    /// <see cref="LogRecordWriter.AsStream"/>. Call <see cref="LogRecordWriter.Commit"/> to append it. The returned
    /// object is reused by the next call; a later append or claim discards the record.
    /// </summary>
    public LogRecordWriter BeginRecord(int typeId = 0)
    {
        _core.BeginRecord(typeId);
        _recordWriter ??= new LogRecordWriter(_core);
        _recordWriter.Begin(_core.Reservation);
        return _recordWriter;
    }

    /// <summary>Whether the log is completed (by this writer or an earlier one): appends throw until <see cref="Reopen"/>.</summary>
    public bool IsCompleted => _core.IsCompleted;

    /// <summary>
    /// Ends the stream after the last record appended: readers drain what is retained, then <see cref="LogReader.TryRead"/>
    /// returns false and <see cref="LogReader.Wait(TimeSpan)"/> and <see cref="LogReader.WaitAsync(CancellationToken)"/>
    /// return false. Idempotent. An append after it throws <see cref="InvalidOperationException"/>. The completion is
    /// stored in the file, so it outlives this writer; a writer claimed later may <see cref="Reopen"/> the log.
    /// </summary>
    public void Complete() => _core.Complete();

    /// <summary>
    /// Continues a completed log: appends work again, and readers that ended may wait again (their next record is the
    /// next one appended). Does nothing to a log that is not completed.
    /// </summary>
    public void Reopen() => _core.Reopen();

    /// <summary>Releases the writer lease without completing the log; any process may then claim the writer and continue.</summary>
    public void Dispose() => _core.Dispose();
}
