namespace SharedLog;

/// <summary>A copy of one record that outlives the reader that read it (see <see cref="LogReader.ReadAllAsync"/>).</summary>
/// <param name="Sequence">The record's sequence number.</param>
/// <param name="TypeId">The user type id given at append.</param>
/// <param name="Payload">A copy of the payload.</param>
public sealed record OwnedLogRecord(long Sequence, int TypeId, ReadOnlyMemory<byte> Payload);
