using System.Buffers;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Crash;

/// <summary>
/// Records whose payload, type id and write path all follow from the sequence number, so any process can append the
/// next one and any reader can check a record it is handed: nothing torn, nothing out of place.
/// </summary>
internal static class CheckedRecords
{
    public const int MaxPayload = 300;

    /// <summary>Appends the record for <see cref="LogWriter.NextSequence"/>, through Append, Claim or the buffer writer in turn.</summary>
    public static long AppendNext(LogWriter writer, byte[] buffer)
    {
        long sequence = writer.NextSequence;
        int length = Payloads.Fill(buffer, sequence, 16, MaxPayload);
        var payload = buffer.AsSpan(0, length);
        switch (sequence % 3)
        {
            case 0:
                return writer.Append(payload, TypeIdOf(sequence));
            case 1:
                var claim = writer.Claim(length, TypeIdOf(sequence));
                payload.CopyTo(claim.Span);
                long claimed = claim.Sequence;
                claim.Commit();
                return claimed;
            default:
                // In two parts, so a record may move to a fresh segment half-written.
                var record = writer.BeginRecord(TypeIdOf(sequence));
                int half = length / 2;
                payload[..half].CopyTo(record.GetSpan(half));
                record.Advance(half);
                payload[half..].CopyTo(record.GetSpan(length - half));
                record.Advance(length - half);
                return record.Commit();
        }
    }

    public static int TypeIdOf(long sequence) => 1 + (int)(sequence % 3);

    /// <summary>Null when the record is exactly what <see cref="AppendNext"/> wrote for its sequence, else what is wrong.</summary>
    public static string? Check(in LogRecord record)
    {
        if (record.TypeId != TypeIdOf(record.Sequence))
        {
            return $"record {record.Sequence} has type id {record.TypeId}, expected {TypeIdOf(record.Sequence)}";
        }

        return Payloads.Verify(record.Payload, record.Sequence) ? null : $"record {record.Sequence} has a torn or foreign payload ({record.Payload.Length} bytes)";
    }

    /// <summary>Checks that a snapshot holds contiguous, intact records from its first to its next sequence.</summary>
    public static void AssertIntactAndContiguous(LogSnapshot snapshot)
    {
        long expected = snapshot.FirstSequence;
        foreach (var record in snapshot)
        {
            Assert.Equal(expected, record.Sequence);
            Assert.Null(Check(record));
            expected++;
        }

        Assert.Equal(snapshot.NextSequence, expected);
        long chunked = snapshot.FirstSequence;
        foreach (var chunk in snapshot.Chunks)
        {
            Assert.Equal(chunked, chunk.FirstSequence);
            Assert.True(chunk.Count > 0);
            chunked += chunk.Count;
        }

        Assert.Equal(snapshot.NextSequence, chunked);
        for (long s = snapshot.FirstSequence; s < snapshot.NextSequence; s++)
        {
            Assert.True(snapshot.TryGet(s, out var record));
            Assert.Null(Check(record));
        }
    }

    /// <summary>Small segments (sealed by bytes or by count), so rolls and slot reuse happen often.</summary>
    public static SegmentedLogOptions SmallOptions(string directory, SlowReaderPolicy policy = SlowReaderPolicy.Block, int spare = 2, int segmentBytes = 2048)
        => new()
        {
            SegmentCapacity = 16,
            SegmentBytes = segmentBytes,
            RetainedCapacity = 64,
            SpareSegments = spare,
            MaxReaders = 8,
            SlowReaderPolicy = policy,
            SlowReaderTimeout = TimeSpan.FromSeconds(60),
            Directory = directory,
        };

    /// <summary>A reader thread that checks every record it receives, across any number of writers.</summary>
    public sealed class TailChecker : IDisposable
    {
        private readonly LogReader _reader;
        private readonly Thread _thread;
        private readonly CancellationTokenSource _stop = new();
        private long _next;
        private volatile string? _failure;

        public TailChecker(SegmentedLog log)
        {
            _reader = log.CreateReader(ReadFrom.Oldest);
            _next = _reader.NextSequence;
            _thread = new Thread(Run) { IsBackground = true, Name = "tail checker" };
            _thread.Start();
        }

        public long Next => Volatile.Read(ref _next);

        public string? Failure => _failure;

        public long LostCount => _reader.LostCount;

        /// <summary>Waits until the reader has received every record before <paramref name="sequence"/>.</summary>
        public void WaitFor(long sequence, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (Next < sequence && _failure is null && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(1);
            }

            Assert.Null(_failure);
            Assert.True(Next >= sequence, $"the tailing reader reached {Next}, not {sequence}");
        }

        public void Dispose()
        {
            _stop.Cancel();
            _thread.Join();
            _reader.Dispose();
        }

        private void Run()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    if (!_reader.TryRead(out var record))
                    {
                        try
                        {
                            _reader.Wait(TimeSpan.FromMilliseconds(20));
                        }
                        catch (WriterDiedException)
                        {
                            // The test kills writers on purpose: the next one takes over and this reader carries on.
                        }

                        continue;
                    }

                    long expected = Volatile.Read(ref _next);
                    if (record.Sequence != expected)
                    {
                        _failure = $"the tailing reader got {record.Sequence}, expected {expected} (lost {_reader.LostCount})";
                        return;
                    }

                    string? problem = Check(record);
                    if (!_reader.Validate())
                    {
                        _failure = $"record {record.Sequence} was overwritten while held under Block";
                        return;
                    }

                    if (problem is not null)
                    {
                        _failure = problem;
                        return;
                    }

                    Volatile.Write(ref _next, expected + 1);
                }
            }
            catch (Exception e)
            {
                _failure = e.ToString();
            }
        }
    }
}
