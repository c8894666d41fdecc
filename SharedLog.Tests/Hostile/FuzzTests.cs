using System.Buffers.Binary;
using System.Globalization;
using SharedLog.Layout;
using SharedLog.Leases;
using SharedLog.Tests.Crash;
using SharedLog.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SharedLog.Tests.Hostile;

/// <summary>
/// Thousands of damaged files (bit flips, crafted fields with a valid checksum, truncations, random bytes), each opened
/// and used every way there is in a child process, so a crash or a read outside the mapping is a test failure rather
/// than a dead test host. The only acceptable outcomes are success and a <see cref="SharedLogException"/>.
/// </summary>
[Collection(ProcessTests.Collection)]
public sealed class FuzzTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public FuzzTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    [Fact]
    [Trait("Category", Stress.Category)]
    public void Damaged_files_yield_success_or_a_library_exception_never_a_crash_or_a_hang()
    {
        int perChild = Stress.Pick(1500, 20_000);
        const int Children = 2;
        var children = new Child[Children];
        try
        {
            for (int c = 0; c < Children; c++)
            {
                string directory = Path.Combine(_dir.Path, c.ToString(CultureInfo.InvariantCulture));
                Directory.CreateDirectory(directory);
                children[c] = Child.Start("fuzz", directory, (1000 + c).ToString(CultureInfo.InvariantCulture), perChild.ToString(CultureInfo.InvariantCulture));
            }

            var outcomes = new Dictionary<string, int>();
            foreach (var child in children)
            {
                int code = child.WaitForExit(TimeSpan.FromMinutes(Stress.Enabled ? 25 : 3));
                var lines = child.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var described = lines.Where(l => l.StartsWith("V ", StringComparison.Ordinal)).ToList();
                var results = lines.Where(l => l.StartsWith("R ", StringComparison.Ordinal)).ToList();
                Assert.True(code == 0,
                    $"The fuzz child died (exit {code}) on: {described.LastOrDefault()}\nstderr:\n{child.Error}");
                Assert.Equal(perChild, results.Count);
                var bad = results.Where(r => r.Contains(" BAD ", StringComparison.Ordinal)).ToList();
                Assert.True(bad.Count == 0, "Variants ended in an exception that is not a SharedLogException:\n" + string.Join('\n', bad.Take(20).Select(r =>
                {
                    string index = r.Split(' ')[1];
                    return described.First(d => d.StartsWith($"V {index} ", StringComparison.Ordinal)) + " -> " + r;
                })));
                foreach (string result in results)
                {
                    string[] words = result.Split(' ', 5);
                    string outcome = words[2] == "ok" ? "ok" : words[3];
                    outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
                }
            }

            _output.WriteLine($"{perChild * Children} variants: " + string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}")));
            Assert.True(outcomes.GetValueOrDefault("ok") > 0, "no variant was usable: the mutations are too coarse");
        }
        finally
        {
            foreach (var child in children)
            {
                child?.Dispose();
            }
        }
    }

    /// <summary>Builds base files, then for each variant: damage a copy, use it every way, print the outcome.</summary>
    [ChildRole("fuzz")]
    public static int Fuzz(string[] args)
    {
        string directory = args[0];
        int seed = int.Parse(args[1], CultureInfo.InvariantCulture);
        int count = int.Parse(args[2], CultureInfo.InvariantCulture);
        var bases = BaseFiles(directory);
        for (int i = 0; i < count; i++)
        {
            var random = new Random((seed * 1_000_003) + i);
            var source = bases[random.Next(bases.Count)];
            byte[] bytes = (byte[])source.Bytes.Clone();
            string description = Mutate(ref bytes, random, source);
            string name = "v" + i.ToString(CultureInfo.InvariantCulture);
            File.WriteAllBytes(Path.Combine(directory, name), bytes);
            Console.WriteLine($"V {i} {source.Name} {description}");
            Console.WriteLine($"R {i} {Exercise(directory, name)}");
            File.Delete(Path.Combine(directory, name));
        }

        return 0;
    }

    /// <summary>Opens a file and uses every read path, then claims the writer and appends; returns the outcome.</summary>
    private static string Exercise(string directory, string name)
    {
        try
        {
            using var log = SegmentedLog.Open(name, directory);
            log.GetStatus();
            using (var snapshot = log.Snapshot())
            {
                ReadAll(snapshot);
            }

            using (var reader = log.CreateReader(ReadFrom.Oldest))
            {
                for (int i = 0; i < 100_000 && reader.TryRead(out var record); i++)
                {
                    Payloads.Verify(record.Payload, record.Sequence);
                    reader.Validate();
                }

                _ = reader.HasData;
                reader.Wait(TimeSpan.Zero);
            }

            using (var latest = log.CreateReader(ReadFrom.Latest))
            {
                latest.TryRead(out _);
            }

            if (log.TryClaimWriter(out var writer))
            {
                using (writer)
                {
                    // Waiting for a reader that looks alive is legitimate under Block; only a short wait is tried.
                    bool mayWait = log.SlowReaderPolicy == SlowReaderPolicy.Evict || log.SlowReaderTimeout <= TimeSpan.FromSeconds(1);
                    var payload = new byte[Math.Min(64, writer.MaxPayloadLength)];
                    for (int i = 0; i < 4 * log.SegmentCapacity; i++)
                    {
                        if (mayWait)
                        {
                            writer.Append(payload);
                        }
                        else
                        {
                            writer.TryAppend(payload, out _);
                        }
                    }
                }

                using var after = log.Snapshot();
                ReadAll(after);
            }

            return "ok";
        }
        catch (SharedLogException e)
        {
            return "lib " + e.GetType().Name + " " + e.Message.ReplaceLineEndings(" ");
        }
        catch (Exception e)
        {
            return "BAD " + e.GetType().Name + ": " + e.Message.ReplaceLineEndings(" ") + " " + e.StackTrace?.ReplaceLineEndings(" | ");
        }
    }

    private static void ReadAll(LogSnapshot snapshot)
    {
        long expected = snapshot.FirstSequence;
        foreach (var record in snapshot)
        {
            if (record.Sequence != expected)
            {
                throw new InvalidOperationException($"enumeration yielded {record.Sequence}, expected {expected}");
            }

            Payloads.Verify(record.Payload, record.Sequence);
            expected++;
        }

        if (expected != snapshot.NextSequence)
        {
            throw new InvalidOperationException($"enumeration ended at {expected}, the snapshot says {snapshot.NextSequence}");
        }

        foreach (var chunk in snapshot.Chunks)
        {
            foreach (var record in chunk)
            {
                _ = record.TypeId;
            }
        }

        for (long s = snapshot.FirstSequence - 2; s < snapshot.NextSequence + 2; s++)
        {
            if (snapshot.TryGet(s, out var record) && record.Sequence != s)
            {
                throw new InvalidOperationException($"TryGet({s}) returned {record.Sequence}");
            }
        }
    }

    private sealed record BaseFile(string Name, byte[] Bytes, long DataOffset, long SlotStride, int SlotCount, long SegmentDataOffset, int SegmentCapacity, int SegmentBytes);

    /// <summary>Healthy and crashed files to start from: every state a real file can be in.</summary>
    private static List<BaseFile> BaseFiles(string directory)
    {
        var list = new List<BaseFile>();
        foreach (string kind in new[] { "clean-evict", "clean-block", "dead-mid-append", "dead-mid-roll", "dead-pins", "fresh", "grown" })
        {
            var options = new SegmentedLogOptions
            {
                SegmentCapacity = 8,
                SegmentBytes = 1024,
                RetainedCapacity = 16,
                SpareSegments = 1,
                MaxReaders = 4,
                SlowReaderPolicy = kind == "clean-evict" ? SlowReaderPolicy.Evict : SlowReaderPolicy.Block,
                SlowReaderTimeout = TimeSpan.FromMilliseconds(50),
                Directory = directory,

                // An unbounded log grown to a few extents: its extent count and its length are fuzzed too.
                Retention = kind == "grown" ? LogRetention.Unbounded : LogRetention.Window,
                MaxBytes = kind == "grown" ? 1 << 20 : 0,
            };
            string name = "base-" + kind;
            var (writer, log) = SegmentedLog.CreateClaimed(name, options);
            var fields = new FileFields(log);
            var buffer = new byte[CheckedRecords.MaxPayload];
            int records = kind == "fresh" ? 0 : 45;
            for (int i = 0; i < records; i++)
            {
                CheckedRecords.AppendNext(writer, buffer);
            }

            switch (kind)
            {
                case "dead-mid-append":
                    while (fields.CountAt(fields.Head) != 1)
                    {
                        CheckedRecords.AppendNext(writer, buffer);
                    }

                    fields.AbandonWriterLease();
                    CrashStates.ReplayAppendUpTo(fields, CrashStates.AppendStep.LengthCommitted, writer.NextSequence);
                    break;
                case "dead-mid-roll":
                    fields.AbandonWriterLease();
                    CrashStates.ReplayRollUpTo(log, fields, CrashStates.RollStep.SlotGenerationPublished, writer.NextSequence);
                    break;
                case "dead-pins":
                    // A reader and a snapshot that died holding pins, and a dead writer.
                    var reader = log.CreateReader();
                    var snapshot = log.Snapshot();
                    fields.AbandonOwner(FileFields.ReaderSlotOffset(reader.SlotIndex));
                    fields.AbandonOwner(FileFields.ReaderSlotOffset(log.GetStatus().Readers.Single(r => r.IsSnapshot).Slot));
                    reader.Dispose();
                    snapshot.Dispose();
                    fields.AbandonWriterLease();
                    break;
            }

            writer.Dispose();
            var file = log.File;
            byte[] header = File.ReadAllBytes(log.FilePath);
            if (Fnv(header.AsSpan(0, FileLayout.ChecksummedLength)) != BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(FileLayout.ChecksumOffset)))
            {
                throw new InvalidOperationException("the fuzzer's checksum differs from the library's: crafted headers would never pass it");
            }

            byte[] bytes = File.ReadAllBytes(log.FilePath);
            int slots = file.IsUnbounded ? (int)((bytes.Length - file.DataOffset) / file.SlotStride) : file.SlotCount;
            list.Add(new BaseFile(kind, bytes, file.DataOffset, file.SlotStride, slots, file.SegmentDataOffset, file.SegmentCapacity, file.SegmentBytes));
            fields.Dispose();
            log.Dispose();
            SegmentedLog.Delete(name, directory);
        }

        return list;
    }

    private static readonly (int Offset, int Size)[] s_identityFields =
    [
        (FileLayout.MagicOffset, 8), (FileLayout.VersionOffset, 4), (FileLayout.KindOffset, 4), (FileLayout.FileLengthOffset, 8),
        (FileLayout.ReaderTableOffsetOffset, 4), (FileLayout.MaxReadersOffset, 4), (FileLayout.DataOffsetOffset, 8),
        (FileLayout.PolicyOffset, 4), (FileLayout.SlowReaderTimeoutMsOffset, 4), (FileLayout.CreatedOffset, 8),
        (LogLayout.SegmentCapacityOffset, 4), (LogLayout.SegmentBytesOffset, 4), (LogLayout.SlotCountOffset, 4),
        (LogLayout.SpareSegmentsOffset, 4), (LogLayout.RetainedCapacityOffset, 8), (LogLayout.SlotStrideOffset, 8),
        (LogLayout.RetainedSegmentsOffset, 4), (LogLayout.RetentionOffset, 4), (LogLayout.MaxBytesOffset, 8),
    ];

    /// <summary>Damages <paramref name="bytes"/> one way or several; returns what it did (to reproduce a failure).</summary>
    private static string Mutate(ref byte[] bytes, Random random, BaseFile file)
    {
        int kind = random.Next(16);
        if (kind == 15)
        {
            int rounds = random.Next(2, 5);
            var parts = new List<string>();
            for (int i = 0; i < rounds; i++)
            {
                parts.Add(MutateOnce(ref bytes, random, file, random.Next(10)));
            }

            return "multi[" + string.Join("; ", parts) + "]";
        }

        return MutateOnce(ref bytes, random, file, kind);
    }

    private static string MutateOnce(ref byte[] bytes, Random random, BaseFile file, int kind)
    {
        long head = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(LogLayout.HeadGenerationOffset));
        switch (kind)
        {
            case 0:
            {
                int flips = random.Next(1, 4);
                var at = new List<string>();
                for (int i = 0; i < flips; i++)
                {
                    int bit = random.Next(FileLayout.HeaderLength * 8);
                    bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                    at.Add(bit.ToString(CultureInfo.InvariantCulture));
                }

                return "header bit flips " + string.Join(",", at);
            }

            case 1:
            {
                // A crafted header: one identity field changed and the checksum made to match.
                var (offset, size) = s_identityFields[random.Next(s_identityFields.Length)];
                long value = Interesting(random, file, head);
                Write(bytes, offset, size, value);
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(FileLayout.ChecksumOffset), Fnv(bytes.AsSpan(0, FileLayout.ChecksummedLength)));
                return $"identity field @{offset} = {value} (checksum fixed)";
            }

            case 2:
            {
                int offset = random.Next(3) switch
                {
                    0 => LogLayout.HeadGenerationOffset,
                    1 => LogLayout.OldestGenerationOffset,
                    _ => LogLayout.ExtentCountOffset,
                };
                long value = Interesting(random, file, head);
                Write(bytes, offset, 8, value);
                return $"hot field @{offset} = {value}";
            }

            case 3:
            {
                int offset = FileLayout.WriterOwnerOffset + (8 * random.Next(OwnerLayout.Length / 8));
                long value = Interesting(random, file, head);
                Write(bytes, offset, 8, value);
                return $"writer lease @{offset} = {value}";
            }

            case 4:
            {
                int slot = random.Next(4);
                int field = random.Next(6);
                long slotOffset = FileFields.ReaderSlotOffset(slot);
                (int offset, int size) = field switch
                {
                    0 => (OwnerLayout.OwnerWordOffset, 8),
                    1 => (OwnerLayout.StartTimeOffset, 8),
                    2 => (ReaderSlotLayout.StateOffset, 4),
                    3 => (ReaderSlotLayout.PinOffset, 8),
                    4 => (OwnerLayout.IdentityEpochOffset, 8),
                    _ => (ReaderSlotLayout.LostCountOffset, 8),
                };
                long value = field == 0 ? OwnerWord(random) : field == 2 ? random.Next(-1, 4) : Interesting(random, file, head);
                Write(bytes, slotOffset + offset, size, value);
                return $"reader slot {slot} @{offset} = {value}";
            }

            case 5:
            {
                long generation = random.Next(file.SlotCount);
                int field = random.Next(3);
                long offset = file.DataOffset + (generation * file.SlotStride) + (field * 8);
                long value = Interesting(random, file, head);
                Write(bytes, offset, field == 2 ? 4 : 8, value);
                return $"segment slot {generation} field {field} = {value}";
            }

            case 6:
            {
                long slot = random.Next(file.SlotCount);
                int entry = random.Next(file.SegmentCapacity);
                long offset = file.DataOffset + (slot * file.SlotStride) + SegmentLayout.IndexOffset + (entry * 4);
                long value = Interesting(random, file, head);
                Write(bytes, offset, 4, value);
                return $"index entry {entry} of slot {slot} = {(int)value}";
            }

            case 7:
            {
                // The length word of a record the index points at (or of a random aligned position).
                long slot = random.Next(file.SlotCount);
                long slotOffset = file.DataOffset + (slot * file.SlotStride);
                int entry = random.Next(file.SegmentCapacity);
                int recordOffset = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)(slotOffset + SegmentLayout.IndexOffset + (entry * 4))));
                if ((uint)recordOffset > (uint)(file.SegmentBytes - 8) || random.Next(4) == 0)
                {
                    recordOffset = random.Next(file.SegmentBytes / 8) * 8;
                }

                long value = Interesting(random, file, head);
                Write(bytes, slotOffset + file.SegmentDataOffset + recordOffset, 4, value);
                return $"record length at {recordOffset} of slot {slot} = {(int)value}";
            }

            case 8:
            {
                int flips = random.Next(1, 9);
                for (int i = 0; i < flips; i++)
                {
                    long bit = file.DataOffset * 8 + random.NextInt64((bytes.Length - file.DataOffset) * 8);
                    bytes[bit / 8] ^= (byte)(1 << (int)(bit % 8));
                }

                return $"{flips} data bit flips";
            }

            case 9:
            {
                int start = random.Next(bytes.Length);
                int length = random.Next(1, Math.Min(512, bytes.Length - start) + 1);
                bytes.AsSpan(start, length).Fill(random.Next(3) == 0 ? (byte)0xFF : (byte)0);
                return $"filled {length} bytes at {start}";
            }

            case 10:
            {
                int[] edges = [0, 1, 7, 8, 127, 128, FileLayout.HeaderLength - 1, FileLayout.HeaderLength, (int)file.DataOffset - 1, (int)file.DataOffset, bytes.Length - 1];
                int length = random.Next(2) == 0 ? edges[random.Next(edges.Length)] : random.Next(bytes.Length);
                Array.Resize(ref bytes, length);
                return $"truncated to {length}";
            }

            case 11:
            {
                int extra = random.Next(1, 4097);
                int old = bytes.Length;
                Array.Resize(ref bytes, old + extra);
                random.NextBytes(bytes.AsSpan(old));
                return $"extended by {extra}";
            }

            case 12:
            {
                int length = random.Next(2) == 0 ? bytes.Length : random.Next(bytes.Length * 2);
                var identity = bytes.AsSpan(0, Math.Min(128, length)).ToArray();
                bytes = new byte[length];
                random.NextBytes(bytes);
                bool keepIdentity = random.Next(2) == 0;
                if (keepIdentity)
                {
                    identity.CopyTo(bytes, 0);
                }

                return $"random {length} bytes{(keepIdentity ? " after a valid identity line" : string.Empty)}";
            }

            case 13:
                bytes = [];
                return "zero length";

            default:
            {
                // Random bytes over a whole segment slot, keeping its generation (so readers trust it).
                long slot = random.Next(file.SlotCount);
                long offset = file.DataOffset + (slot * file.SlotStride) + 8;
                random.NextBytes(bytes.AsSpan((int)offset, (int)file.SlotStride - 8));
                return $"random contents of slot {slot}";
            }
        }
    }

    private static long Interesting(Random random, BaseFile file, long head)
    {
        long[] values =
        [
            0, 1, -1, 2, 7, 8, 9, 15, 16, 17, file.SegmentCapacity - 1, file.SegmentCapacity, file.SegmentCapacity + 1,
            file.SegmentBytes - 8, file.SegmentBytes, file.SegmentBytes + 8, file.SlotCount, head - 1, head + 1, head + file.SlotCount,
            int.MaxValue, int.MinValue, int.MaxValue - 7, uint.MaxValue, long.MaxValue, long.MinValue, long.MaxValue - 7, 1L << 40,
            FileFields.DeadPid, Environment.ProcessId,
        ];
        return random.Next(4) == 0 ? random.NextInt64(long.MinValue, long.MaxValue) : values[random.Next(values.Length)];
    }

    private static long OwnerWord(Random random)
    {
        int[] pids = [0, 1, Environment.ProcessId, FileFields.DeadPid, random.Next()];
        return OwnerBlock.MakeWord(random.Next(16), pids[random.Next(pids.Length)]);
    }

    private static void Write(byte[] bytes, long offset, int size, long value)
    {
        if (offset < 0 || offset + size > bytes.Length)
        {
            return;
        }

        if (size == 8)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan((int)offset), value);
        }
        else
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan((int)offset), (int)value);
        }
    }

    /// <summary>FNV-1a, as the header checksum: a crafted header must pass it to reach the deeper checks.</summary>
    private static ulong Fnv(ReadOnlySpan<byte> bytes)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in bytes)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }
}
