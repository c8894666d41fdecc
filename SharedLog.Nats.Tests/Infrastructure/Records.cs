using System.Buffers.Binary;

namespace SharedLog.Nats.Tests.Infrastructure;

/// <summary>Test records whose payload and type id are functions of their sequence, so each can be checked on arrival.</summary>
public static class Records
{
    public const int Length = 64;

    public static int TypeIdOf(long sequence) => (int)(sequence % 7);

    public static void Fill(Span<byte> payload, long sequence)
    {
        BinaryPrimitives.WriteInt64LittleEndian(payload, sequence);
        for (int i = 8; i < payload.Length; i++)
        {
            payload[i] = (byte)((sequence * 31) + i);
        }
    }

    /// <summary>Appends records until the writer's next sequence is <paramref name="until"/>.</summary>
    public static void AppendUntil(LogWriter writer, long until)
    {
        Span<byte> payload = stackalloc byte[Length];
        while (writer.NextSequence < until)
        {
            long sequence = writer.NextSequence;
            Fill(payload, sequence);
            writer.Append(payload, TypeIdOf(sequence));
        }
    }

    public static void AssertIntact(BridgedMessage message)
    {
        Span<byte> expected = stackalloc byte[Length];
        Fill(expected, message.Sequence);
        Assert.True(expected.SequenceEqual(message.Data), $"payload of log sequence {message.Sequence} differs");
        Assert.Equal(TypeIdOf(message.Sequence), message.TypeId);
    }
}
