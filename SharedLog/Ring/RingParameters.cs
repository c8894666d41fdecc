using System.Numerics;
using SharedLog.Files;
using SharedLog.Layout;

namespace SharedLog.Ring;

/// <summary>
/// The byte ring's parameters (its capacity): planned from <see cref="ByteRingOptions"/>, written into the header's
/// kind line, read back and checked by every open with the same rule.
/// </summary>
internal readonly record struct RingParameters(int Capacity) : IKindParameters<RingParameters>
{
    public static int Kind => FileLayout.KindRing;

    public static string KindName => "byte ring";

    public long DataLength => Capacity;

    /// <summary>A ring's file never grows.</summary>
    public bool MayGrow => false;

    public static RingParameters Plan(ByteRingOptions options) => Check(ParameterCheck.ForOptions, options.Capacity);

    public static unsafe RingParameters Read(byte* header, ParameterCheck check) => Check(check, *(long*)(header + RingLayout.CapacityOffset));

    public unsafe void Write(byte* header) => *(long*)(header + RingLayout.CapacityOffset) = Capacity;

    /// <summary>Positions at 0, not completed, no reader known to the writer.</summary>
    public unsafe void Initialise(byte* file, in FileHeader header)
    {
        *(long*)(file + RingLayout.WriterPositionOffset) = 0;
        *(long*)(file + RingLayout.TailPositionOffset) = 0;
        *(long*)(file + RingLayout.TailIntentOffset) = 0;
        *(long*)(file + RingLayout.CompletedPositionOffset) = RingLayout.NotCompleted;
        *(long*)(file + RingLayout.CachedMinReaderPositionOffset) = ReaderSlotLayout.NoPin;
        *(long*)(file + RingLayout.JoinSequenceOffset) = 0;
    }

    private static RingParameters Check(ParameterCheck check, long capacity)
    {
        check.Require(capacity >= RingLayout.MinCapacity && capacity <= RingLayout.MaxCapacity && BitOperations.IsPow2(capacity),
            "Capacity", capacity, $"a power of two from {RingLayout.MinCapacity} to {RingLayout.MaxCapacity} bytes");
        return new RingParameters((int)capacity);
    }
}
