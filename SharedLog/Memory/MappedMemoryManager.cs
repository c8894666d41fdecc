using System.Buffers;

namespace SharedLog.Memory;

/// <summary>
/// <see cref="Memory{T}"/> over a range of the mapping (the ring's data, a log segment's data), so regions of it can be
/// handed to APIs that take <c>Memory&lt;byte&gt;</c> (<c>RandomAccess</c>, sockets, pipelines, serializers' buffer
/// writers).
/// </summary>
/// <remarks>
/// Created once per range and owner; slicing its <see cref="MemoryManager{T}.Memory"/> allocates
/// nothing. The mapping is not moved by the GC, so pinning is a no-op. The owner (writer or reader) holds a reference
/// on the region, so memory handed out stays mapped until the owner is disposed.
/// </remarks>
internal sealed unsafe class MappedMemoryManager : MemoryManager<byte>
{
    private readonly byte* _data;
    private readonly int _length;

    public MappedMemoryManager(byte* data, int length)
    {
        _data = data;
        _length = length;
    }

    public override Span<byte> GetSpan() => new(_data, _length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        if ((uint)elementIndex > (uint)_length)
        {
            throw new ArgumentOutOfRangeException(nameof(elementIndex));
        }

        return new MemoryHandle(_data + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
