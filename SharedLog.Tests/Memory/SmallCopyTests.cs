using SharedLog.Memory;

namespace SharedLog.Tests.Memory;

/// <summary>
/// The inline copy of small payloads used by the log's appends and the ring's writes and reads: every length around
/// its vector sizes, at every alignment, into a larger destination, and between overlapping ranges of one buffer.
/// </summary>
public sealed class SmallCopyTests
{
    public static TheoryData<int> Lengths()
    {
        var lengths = new TheoryData<int>();
        foreach (int length in new[] { 0, 1, 7, 8, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65, 100, 4096 })
        {
            lengths.Add(length);
        }

        return lengths;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Copies_exactly_the_source_and_nothing_around_it(int length)
    {
        var source = new byte[length + 64];
        for (int i = 0; i < source.Length; i++)
        {
            source[i] = (byte)(i * 7 + 1);
        }

        for (int sourceStart = 0; sourceStart < 32; sourceStart += 3)
        {
            for (int destinationStart = 0; destinationStart < 32; destinationStart += 5)
            {
                var destination = new byte[length + 96];
                Array.Fill(destination, (byte)0xEE);

                SmallCopy.Copy(source.AsSpan(sourceStart, length), destination.AsSpan(destinationStart, length + 16));

                Assert.Equal(source.AsSpan(sourceStart, length), destination.AsSpan(destinationStart, length));
                Assert.All(destination[..destinationStart], b => Assert.Equal(0xEE, b));
                Assert.All(destination[(destinationStart + length)..], b => Assert.Equal(0xEE, b));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Copies_overlapping_ranges_as_memmove_does(int length)
    {
        for (int shift = -20; shift <= 20; shift++)
        {
            var buffer = new byte[length + 64];
            for (int i = 0; i < buffer.Length; i++)
            {
                buffer[i] = (byte)(i + 3);
            }

            var expected = (byte[])buffer.Clone();
            int from = 24;
            int to = from + shift;
            Array.Copy(expected, from, expected, to, length);

            SmallCopy.Copy(buffer.AsSpan(from, length), buffer.AsSpan(to, length));

            Assert.Equal(expected, buffer);
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(40)]
    [InlineData(64)]
    [InlineData(100)]
    public void Refuses_a_destination_shorter_than_the_source_and_writes_nothing(int length)
    {
        var source = new byte[length];
        Array.Fill(source, (byte)1);
        var destination = new byte[length + 32];

        Assert.Throws<ArgumentException>(() => SmallCopy.Copy(source, destination.AsSpan(0, length - 1)));
        Assert.All(destination, b => Assert.Equal(0, b));
    }
}
