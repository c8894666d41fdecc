using System.Buffers.Binary;
using SharedLog.Layout;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Ring;

/// <summary>Corrupt, truncated, foreign and random files: a clear SharedLogException, never a crash or a hang.</summary>
public sealed class RingHostileTests : IDisposable
{
    private const int Capacity = 4096;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string MakeRing(string name, long written = 10_000)
    {
        var (writer, ring) = ByteRing.CreateClaimed(name, new ByteRingOptions { Capacity = Capacity, MaxReaders = 4, Directory = _dir.Path });
        using (ring)
        using (writer)
        {
            writer.Write(RingContent.Make(0, (int)written));
        }

        return ring.FilePath;
    }

    private static void Patch(string path, int offset, ReadOnlySpan<byte> bytes, bool fixChecksum)
    {
        byte[] file = File.ReadAllBytes(path);
        bytes.CopyTo(file.AsSpan(offset));
        if (fixChecksum)
        {
            ulong hash = 14695981039346656037UL;
            for (int i = 0; i < FileLayout.ChecksummedLength; i++)
            {
                hash = (hash ^ file[i]) * 1099511628211UL;
            }

            BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(FileLayout.ChecksumOffset), hash);
        }

        File.WriteAllBytes(path, file);
    }

    private static byte[] Long(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }

    private SharedLogFormatException OpenFails(string name)
    {
        var e = Assert.Throws<SharedLogFormatException>(() => ByteRing.Open(name, _dir.Path).Dispose());
        Assert.Contains(name, e.Message, StringComparison.Ordinal);
        return e;
    }

    [Fact]
    public void Every_single_bit_flip_in_the_identity_line_is_refused()
    {
        string path = MakeRing("flip");
        byte[] original = File.ReadAllBytes(path);
        for (int offset = 0; offset < FileLayout.ChecksummedLength + 8; offset++)
        {
            for (int bit = 0; bit < 8; bit += 3)
            {
                byte[] corrupt = (byte[])original.Clone();
                corrupt[offset] ^= (byte)(1 << bit);
                File.WriteAllBytes(path, corrupt);
                OpenFails("flip");
            }
        }

        File.WriteAllBytes(path, original);
        using var ring = ByteRing.Open("flip", _dir.Path);
        Assert.Equal(10_000, ring.WriterPosition);
    }

    [Fact]
    public void Geometry_that_passes_the_checksum_but_not_the_checks_is_refused()
    {
        string path = MakeRing("geometry");
        byte[] original = File.ReadAllBytes(path);
        (int Offset, byte[] Value, string Says)[] cases =
        [
            (RingLayout.CapacityOffset, Long(3000), "power of two"),
            (RingLayout.CapacityOffset, Long(8), "power of two"),
            (RingLayout.CapacityOffset, Long(1L << 40), "power of two"),
            (RingLayout.CapacityOffset, Long(8192), "header's FileLength is"),
            (RingLayout.CapacityOffset, Long(-4096), "power of two"),
            (FileLayout.MaxReadersOffset, BitConverter.GetBytes(0), "MaxReaders"),
            (FileLayout.MaxReadersOffset, BitConverter.GetBytes(100_000), "MaxReaders"),
            (FileLayout.MaxReadersOffset, BitConverter.GetBytes(64), "header's DataOffset is"),
            (FileLayout.DataOffsetOffset, Long(0), "header's DataOffset is 0"),
            (FileLayout.FileLengthOffset, Long(1L << 50), "header's FileLength is"),
            (FileLayout.ReaderTableOffsetOffset, BitConverter.GetBytes(0), "header's ReaderTableOffset is 0"),
            (FileLayout.PolicyOffset, BitConverter.GetBytes(7), "SlowReaderPolicy"),
            (FileLayout.KindOffset, BitConverter.GetBytes(FileLayout.KindLog), "is a segmented log, not a byte ring"),
            (FileLayout.KindOffset, BitConverter.GetBytes(99), "unknown kind"),
            (FileLayout.VersionOffset, BitConverter.GetBytes(1), "layout version 1"),
            (FileLayout.VersionOffset, BitConverter.GetBytes(FileLayout.CurrentVersion + 1), $"layout version {FileLayout.CurrentVersion + 1}"),
        ];
        foreach (var (offset, value, says) in cases)
        {
            File.WriteAllBytes(path, original);
            Patch(path, offset, value, fixChecksum: true);
            var e = OpenFails("geometry");
            Assert.Contains(says, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Impossible_positions_in_the_hot_lines_are_refused()
    {
        string path = MakeRing("positions");
        byte[] original = File.ReadAllBytes(path);
        (int Offset, long Value)[] cases =
        [
            (RingLayout.WriterPositionOffset, -1),
            (RingLayout.WriterPositionOffset, long.MaxValue),
            (RingLayout.WriterPositionOffset, 1_000_000),
            (RingLayout.TailPositionOffset, -5),
            (RingLayout.TailPositionOffset, 10_001),
            (RingLayout.TailPositionOffset, 100),
            (RingLayout.TailIntentOffset, 10_001),
            (RingLayout.TailIntentOffset, 0),
            (RingLayout.CompletedPositionOffset, 10_001),
            (RingLayout.CompletedPositionOffset, -7),
        ];
        foreach (var (offset, value) in cases)
        {
            File.WriteAllBytes(path, original);
            Patch(path, offset, Long(value), fixChecksum: false);
            var e = OpenFails("positions");
            Assert.Contains("is corrupt", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Truncated_extended_empty_random_and_foreign_files_are_refused()
    {
        string path = MakeRing("sizes");
        byte[] original = File.ReadAllBytes(path);

        File.WriteAllBytes(path, original.AsSpan(0, original.Length / 2).ToArray());
        Assert.Contains("truncated or extended", OpenFails("sizes").Message, StringComparison.Ordinal);

        File.WriteAllBytes(path, [.. original, .. new byte[4096]]);
        Assert.Contains("truncated or extended", OpenFails("sizes").Message, StringComparison.Ordinal);

        File.WriteAllBytes(path, original.AsSpan(0, 100).ToArray());
        Assert.Contains("shorter than a SharedLog header", OpenFails("sizes").Message, StringComparison.Ordinal);

        File.WriteAllBytes(path, []);
        Assert.Contains("0 bytes long", OpenFails("sizes").Message, StringComparison.Ordinal);

        var random = new byte[original.Length];
        new Random(42).NextBytes(random);
        File.WriteAllBytes(path, random);
        Assert.Contains("not a SharedLog file", OpenFails("sizes").Message, StringComparison.Ordinal);

        using (SegmentedLog.Create("alog", new SegmentedLogOptions { SegmentCapacity = 16, RetainedCapacity = 64, Directory = _dir.Path }))
        {
        }

        Assert.Contains("is a segmented log, not a byte ring", OpenFails("alog").Message, StringComparison.Ordinal);

        using (ByteRing.Create("aring", new ByteRingOptions { Capacity = Capacity, Directory = _dir.Path }))
        {
        }

        var asLog = Assert.Throws<SharedLogFormatException>(() => SegmentedLog.Open("aring", _dir.Path));
        Assert.Contains("is a byte ring, not a segmented log", asLog.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_header_and_reader_table_damage_never_crashes_or_hangs()
    {
        string path = MakeRing("fuzz", written: 3 * Capacity);
        byte[] original = File.ReadAllBytes(path);
        var random = new Random(2024);
        int opened = 0;
        for (int round = 0; round < 300; round++)
        {
            byte[] corrupt = (byte[])original.Clone();
            int damage = random.Next(1, 12);
            for (int i = 0; i < damage; i++)
            {
                // Anywhere in the header, hot lines and reader table (the data itself is opaque bytes).
                int offset = random.Next(0, FileLayout.ReaderTableOffset + (4 * 128));
                corrupt[offset] = (byte)random.Next(256);
            }

            File.WriteAllBytes(path, corrupt);

            // Half the rounds keep the checksum right, so damage gets past the first check.
            if (round % 2 == 0)
            {
                Patch(path, 0, corrupt.AsSpan(0, 8), fixChecksum: true);
            }

            ByteRing ring;
            try
            {
                ring = ByteRing.Open("fuzz", _dir.Path);
            }
            catch (SharedLogException)
            {
                continue;
            }

            opened++;
            using (ring)
            {
                Exercise(ring);
            }
        }

        Assert.True(opened > 0, "some damage (reader table, unused fields) leaves a usable file");
    }

    /// <summary>Reads, seeks and writes on a damaged file: only SharedLogException (or argument errors) may come out.</summary>
    private static void Exercise(ByteRing ring)
    {
        try
        {
            using var reader = ring.CreateReader();
            var buffer = new byte[Capacity];
            for (int i = 0; i < 4 && reader.Read(buffer) > 0; i++)
            {
            }

            reader.GetReadSpans(out _, out _);
            reader.Advance(0);
            reader.Wait(TimeSpan.FromMilliseconds(1));
            try
            {
                reader.Seek(ring.OldestPosition);
            }
            catch (ArgumentOutOfRangeException)
            {
            }
        }
        catch (SharedLogException)
        {
        }

        try
        {
            if (ring.TryClaimWriter(out var writer))
            {
                using (writer)
                {
                    if (!writer.IsCompleted)
                    {
                        writer.Write(new byte[Capacity * 2]);
                    }
                }
            }
        }
        catch (SharedLogException)
        {
        }
    }
}
