using System.Buffers.Binary;
using SharedLog.Layout;
using SharedLog.Leases;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Ring;

public sealed class RingReaderReregisterTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Live_ring_reader_whose_slot_was_reaped_reregisters_and_leaves_the_new_owner_alone()
    {
        var (writer, ring) = ByteRing.CreateClaimed("reaped", new ByteRingOptions { Capacity = 4096, Directory = _dir.Path });
        using (writer)
        using (ring)
        {
            using var slow = ring.CreateReader(ReadFrom.Oldest);
            Assert.Equal(100, writer.Write(Enumerable.Range(0, 100).Select(i => (byte)i).ToArray()));
            var buffer = new byte[100];
            Assert.Equal(40, slow.Read(buffer.AsSpan(0, 40)));
            int stolen = slow.SlotIndex;
            long slotOffset = FileLayout.ReaderTableOffset + ((long)stolen * ReaderSlotLayout.Length);

            // What a reaper does to a slot whose owner it presumes dead (heartbeat fallback): owner word back to free,
            // same epoch. Then another reader takes the slot.
            using (var file = new FileStream(ring.FilePath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
            {
                var word = new byte[8];
                file.Position = slotOffset + OwnerLayout.OwnerWordOffset;
                file.ReadExactly(word);
                long owner = BinaryPrimitives.ReadInt64LittleEndian(word);
                Assert.Equal(Environment.ProcessId, OwnerBlock.PidOf(owner));
                BinaryPrimitives.WriteInt64LittleEndian(word, OwnerBlock.MakeWord(OwnerBlock.EpochOf(owner), 0));
                file.Position = slotOffset + OwnerLayout.OwnerWordOffset;
                file.Write(word);
            }

            using var newcomer = ring.CreateReader(ReadFrom.Latest);
            Assert.Equal(stolen, newcomer.SlotIndex);
            long newcomerPin = ReadInt64(ring.FilePath, slotOffset + ReaderSlotLayout.PinOffset);
            Assert.Equal(100, newcomerPin);

            // The slow reader reads on: it moves to a slot of its own and never touches the newcomer's.
            Assert.Equal(60, slow.Read(buffer.AsSpan(40)));
            Assert.Equal(Enumerable.Range(0, 100).Select(i => (byte)i).ToArray(), buffer);
            Assert.NotEqual(stolen, slow.SlotIndex);
            Assert.Equal(0, slow.LostBytes);
            Assert.Equal(newcomerPin, ReadInt64(ring.FilePath, slotOffset + ReaderSlotLayout.PinOffset));
            long ownPin = ReadInt64(ring.FilePath, FileLayout.ReaderTableOffset + ((long)slow.SlotIndex * ReaderSlotLayout.Length) + ReaderSlotLayout.PinOffset);
            Assert.Equal(100, ownPin);
        }
    }

    [Fact]
    public void Seek_of_a_reader_whose_slot_was_reaped_leaves_the_new_owner_alone()
    {
        var (writer, ring) = ByteRing.CreateClaimed("reaped-seek", new ByteRingOptions { Capacity = 4096, Directory = _dir.Path });
        using (writer)
        using (ring)
        {
            using var slow = ring.CreateReader(ReadFrom.Oldest);
            writer.Write(new byte[100]);
            int stolen = slow.SlotIndex;
            long slotOffset = FileLayout.ReaderTableOffset + ((long)stolen * ReaderSlotLayout.Length);
            Reap(ring.FilePath, slotOffset);
            using var newcomer = ring.CreateReader(ReadFrom.Oldest);
            Assert.Equal(stolen, newcomer.SlotIndex);
            long newcomerPin = ReadInt64(ring.FilePath, slotOffset + ReaderSlotLayout.PinOffset);

            slow.Seek(60);
            Assert.Equal(newcomerPin, ReadInt64(ring.FilePath, slotOffset + ReaderSlotLayout.PinOffset));
            Assert.Equal(60, slow.Position);
            Assert.Equal(40, slow.Read(new byte[100]));
        }
    }

    private static void Reap(string path, long slotOffset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        var word = new byte[8];
        file.Position = slotOffset + OwnerLayout.OwnerWordOffset;
        file.ReadExactly(word);
        long owner = BinaryPrimitives.ReadInt64LittleEndian(word);
        BinaryPrimitives.WriteInt64LittleEndian(word, OwnerBlock.MakeWord(OwnerBlock.EpochOf(owner), 0));
        file.Position = slotOffset + OwnerLayout.OwnerWordOffset;
        file.Write(word);
    }

    private static long ReadInt64(string path, long offset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var bytes = new byte[8];
        file.Position = offset;
        file.ReadExactly(bytes);
        return BinaryPrimitives.ReadInt64LittleEndian(bytes);
    }
}
