using System.IO.Pipes;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using SharedLog.Benchmarks.CrossProcess;

namespace SharedLog.Benchmarks.Suite;

/// <summary>The producer's side of a throughput transport: writes bursts of test messages, or of pattern bytes.</summary>
internal interface ISender : IDisposable
{
    /// <summary>Writes messages <paramref name="sequence"/> … +<paramref name="count"/>-1 (filled into <paramref name="scratch"/>, then copied); returns their checksum.</summary>
    long SendMessages(Span<byte> scratch, long sequence, int count);

    /// <summary>Writes <paramref name="count"/> pieces of <paramref name="size"/> pattern bytes from stream position <paramref name="position"/>.</summary>
    void SendBytes(long position, int size, int count);

    /// <summary>Ends the stream (after <see cref="Control.EndPosition"/> is published): an end record, a completion, or closing the descriptor.</summary>
    void Finish();

    /// <summary>Hands on what the sender still buffers (the pipe's and socket's 64 KiB buffers); others publish as they write.</summary>
    void Flush()
    {
    }
}

/// <summary>A consumer's side: takes what is there now, checking every message or byte, into a <see cref="Tally"/>.</summary>
internal interface IReceiver : IDisposable
{
    /// <summary>Consumes up to a burst; returns how many messages (or bytes) it took, 0 when there was nothing yet.</summary>
    int Receive(ref Tally tally);
}

/// <summary>What a consumer has seen: its next expected position, what fell inside the measured window, and what was wrong.</summary>
internal struct Tally
{
    /// <summary>Bulk mode's pattern period: a prime, so the bytes a lap of any power-of-two ring would leave behind never match.</summary>
    public const int PatternPeriod = 65_521;

    /// <summary>Pattern bytes: byte p of the stream is <c>Pattern[p % PatternPeriod]</c>, and any 64 KiB from there are contiguous.</summary>
    public static readonly byte[] Pattern = MakePattern();

    public Control Control;
    public bool Bulk;
    public long Next;
    public long Start;
    public long Measured;
    public long Checksum;
    public long Bad;
    public bool Ended;

    public Tally(Control control, bool bulk)
    {
        Control = control;
        Bulk = bulk;
        Start = Control.Unset;
    }

    /// <summary>The pattern bytes for stream positions <paramref name="position"/> … +<paramref name="length"/>-1 (at most 64 KiB).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static ReadOnlySpan<byte> PatternAt(long position, int length) => Pattern.AsSpan((int)(position % PatternPeriod), length);

    /// <summary>Checks one message: intact, in order, and counted when it lies in the measured window.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void TakeMessage(ReadOnlySpan<byte> message)
    {
        long sum = 0;
        long sequence = TestMessage.Check(message, ref sum);
        if (sequence != Next)
        {
            Bad++;
        }

        Next++;
        if (Start == Control.Unset)
        {
            // Published before the window's first message was written, so it is visible once that message is.
            Start = Control.StartPosition;
        }

        if (sequence >= Start)
        {
            Measured++;
            Checksum += sum;
        }
    }

    /// <summary>Checks bytes against the pattern at their stream position.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void TakeBytes(ReadOnlySpan<byte> bytes)
    {
        if (!bytes.SequenceEqual(PatternAt(Next, bytes.Length)))
        {
            Bad++;
        }

        if (Start == Control.Unset)
        {
            Start = Control.StartPosition;
        }

        long end = Next + bytes.Length;
        if (end > Start)
        {
            Measured += end - Math.Max(Next, Start);
        }

        Next = end;
    }

    private static byte[] MakePattern()
    {
        var random = new Random(42);
        byte[] period = new byte[PatternPeriod];
        random.NextBytes(period);
        byte[] pattern = new byte[PatternPeriod + (64 << 10)];
        for (int i = 0; i < pattern.Length; i++)
        {
            pattern[i] = period[i % PatternPeriod];
        }

        return pattern;
    }
}

/// <summary>SharedLog's segmented log: <see cref="LogWriter.Append(ReadOnlySpan{byte})"/>, one record per message.</summary>
internal sealed class LogSender(LogWriter writer, SegmentedLog log) : ISender
{
    /// <summary>Type id of the record that ends the stream.</summary>
    public const int EndTypeId = 1;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long SendMessages(Span<byte> scratch, long sequence, int count)
    {
        long checksum = 0;
        for (int i = 0; i < count; i++)
        {
            checksum += TestMessage.Fill(scratch, sequence + i);
            writer.Append(scratch);
        }

        return checksum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SendBytes(long position, int size, int count) => throw new NotSupportedException("the log carries messages");

    public void Finish() => writer.Append(stackalloc byte[8], EndTypeId);

    public void Dispose()
    {
        writer.Dispose();
        log.Dispose();
    }
}

/// <summary>
/// A tailing <see cref="LogReader"/> that reads record by record with <see cref="LogReader.TryRead"/>, or (with
/// <paramref name="batch"/>) drains with <see cref="LogReader.TryReadBatch(int, out LogBatch)"/>: one validation per
/// batch, <c>foreach</c> over its records; with a <paramref name="minRecords"/>, each batch lingers up to
/// <paramref name="maxDelay"/> for that many. Under <see cref="SlowReaderPolicy.Block"/> nothing it reads is
/// overwritten, so it does not validate.
/// </summary>
internal sealed class LogReceiver(SegmentedLog log, LogReader reader, bool batch, int minRecords = 0, TimeSpan maxDelay = default) : IReceiver
{
    /// <summary>What a lingering batch reader asks for: 256 records (16 KiB of 64-byte records), or what came within 2 µs.</summary>
    public const int LingerMinimum = 256;

    public static readonly TimeSpan LingerDelay = TimeSpan.FromMicroseconds(2);

    private const int Burst = 1024;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Receive(ref Tally tally) => batch ? ReceiveBatch(ref tally) : ReceiveEach(ref tally);

    public void Dispose()
    {
        reader.Dispose();
        log.Dispose();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ReceiveEach(ref Tally tally)
    {
        int taken = 0;
        while (taken < Burst)
        {
            if (!reader.TryRead(out var record))
            {
                if (taken == 0)
                {
                    reader.Wait(TimeSpan.FromMilliseconds(100));
                }

                break;
            }

            if (!Take(ref tally, record))
            {
                break;
            }

            taken++;
        }

        return taken;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ReceiveBatch(ref Tally tally)
    {
        if (!(minRecords == 0 ? reader.TryReadBatch(Burst, out var records) : reader.TryReadBatch(Burst, minRecords, maxDelay, out records)))
        {
            reader.Wait(TimeSpan.FromMilliseconds(100));
            return 0;
        }

        int taken = 0;
        foreach (var record in records)
        {
            if (!Take(ref tally, record))
            {
                break;
            }

            taken++;
        }

        return taken;
    }

    /// <summary>Checks a message into the tally; false for the record that ends the stream.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Take(ref Tally tally, in LogRecord record)
    {
        if (record.TypeId == LogSender.EndTypeId)
        {
            tally.Ended = true;
            return false;
        }

        tally.TakeMessage(record.Payload);
        return true;
    }
}

/// <summary>
/// SharedLog's byte ring: <see cref="RingWriter.Write"/> what fits, waiting for space when nothing does; or, with
/// <paramref name="gather"/>, each burst's pieces copied one by one into space from
/// <see cref="RingWriter.GetWriteSpans(int, out Span{byte}, out Span{byte})"/> and published with one
/// <see cref="RingWriter.Advance"/> (the ring's own way of gathering small writes, as the pipe's 64 KiB buffer does).
/// </summary>
internal sealed class RingSender(RingWriter writer, ByteRing ring, bool gather = false) : ISender
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long SendMessages(Span<byte> scratch, long sequence, int count) => throw new NotSupportedException("the ring carries bytes here");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SendBytes(long position, int size, int count)
    {
        if (gather)
        {
            Gather(position, size, count);
            return;
        }

        for (int i = 0; i < count; i++)
        {
            var chunk = Tally.PatternAt(position, size);
            position += size;
            while (!chunk.IsEmpty)
            {
                int written = writer.Write(chunk);
                if (written == 0 && !writer.WaitForSpace(TimeSpan.FromSeconds(30)))
                {
                    throw new TimeoutException("no space in the ring for 30 s");
                }

                chunk = chunk[written..];
            }
        }
    }

    public void Finish() => writer.Complete();

    public void Dispose()
    {
        writer.Dispose();
        ring.Dispose();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Gather(long position, int size, int count)
    {
        long end = position + (long)size * count;
        while (position < end)
        {
            int length = writer.GetWriteSpans((int)(end - position), out var first, out var second);
            if (length == 0)
            {
                if (!writer.WaitForSpace(TimeSpan.FromSeconds(30)))
                {
                    throw new TimeoutException("no space in the ring for 30 s");
                }

                continue;
            }

            // Piece by piece, as a producer assembling messages would; a piece may straddle the wrap.
            for (int offset = 0; offset < length;)
            {
                int piece = Math.Min(size - (int)((position + offset) % size), length - offset);
                var bytes = Tally.PatternAt(position + offset, piece);
                if (offset >= first.Length)
                {
                    bytes.CopyTo(second[(offset - first.Length)..]);
                }
                else if (offset + piece <= first.Length)
                {
                    bytes.CopyTo(first[offset..]);
                }
                else
                {
                    int split = first.Length - offset;
                    bytes[..split].CopyTo(first[offset..]);
                    bytes[split..].CopyTo(second);
                }

                offset += piece;
            }

            writer.Advance(length);
            position += length;
        }
    }
}

/// <summary>
/// A <see cref="RingReader"/> reading into a 64 KiB buffer (one copy out, as a pipe's reader makes); with a
/// <paramref name="minimumLength"/>, each read lingers up to <paramref name="maxDelay"/> for that many bytes.
/// </summary>
internal sealed class RingReceiver(ByteRing ring, RingReader reader, int minimumLength = 0, TimeSpan maxDelay = default) : IReceiver
{
    /// <summary>What a batching reader asks for: 16 KiB, or what came within 2 µs.</summary>
    public const int BatchMinimum = 16 << 10;

    public static readonly TimeSpan BatchDelay = TimeSpan.FromMicroseconds(2);

    private readonly byte[] _buffer = new byte[64 << 10];

    /// <summary>A busy-spinning reader of <paramref name="ring"/> whose reads take 16 KiB or what came within 2 µs.</summary>
    public static RingReceiver Batched(ByteRing ring) => new(ring, ring.CreateReader(ReadFrom.Oldest, IdleStrategy.BusySpin), BatchMinimum, BatchDelay);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Receive(ref Tally tally)
    {
        int read = minimumLength == 0 ? reader.Read(_buffer) : reader.Read(_buffer, minimumLength, maxDelay);
        if (read > 0)
        {
            tally.TakeBytes(_buffer.AsSpan(0, read));
            return read;
        }

        if (reader.IsCompleted)
        {
            tally.Ended = true;
        }
        else
        {
            reader.Wait(TimeSpan.FromMilliseconds(100));
        }

        return 0;
    }

    public void Dispose()
    {
        reader.Dispose();
        ring.Dispose();
    }
}

/// <summary>The raw ring baseline: messages are copied in whole and published one by one; bulk bytes are copied in what fits.</summary>
internal sealed class RawSender(RawRing ring) : ISender
{
    private readonly RawRing.Producer _producer = ring.CreateProducer();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long SendMessages(Span<byte> scratch, long sequence, int count)
    {
        long checksum = 0;
        for (int i = 0; i < count; i++)
        {
            checksum += TestMessage.Fill(scratch, sequence + i);
            _producer.WriteMessage(scratch);
        }

        return checksum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SendBytes(long position, int size, int count)
    {
        for (int i = 0; i < count; i++)
        {
            _producer.WriteAll(Tally.PatternAt(position, size));
            position += size;
        }
    }

    public void Finish()
    {
        // Consumers end at Control.EndPosition.
    }

    public void Dispose() => ring.Dispose();
}

/// <summary>A raw ring consumer: messages are checked in place; bulk bytes are copied out into a 64 KiB buffer first, as the byte ring's reader does.</summary>
internal sealed class RawReceiver(RawRing ring, int index, int messageLength) : IReceiver
{
    private readonly RawRing.Consumer _consumer = ring.CreateConsumer(index);
    private readonly byte[] _buffer = new byte[64 << 10];
    private readonly int _burstBytes = Math.Max(messageLength, Math.Min(ring.Capacity / 4, 1024 * messageLength));
    private int _tries;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Receive(ref Tally tally)
    {
        var available = _consumer.Peek(tally.Bulk ? _buffer.Length : _burstBytes);
        if (available.IsEmpty)
        {
            RawRing.Pause(ref _tries);
            return 0;
        }

        _tries = 0;
        if (tally.Bulk)
        {
            available.CopyTo(_buffer);
            tally.TakeBytes(_buffer.AsSpan(0, available.Length));
            _consumer.Advance(available.Length);
            return available.Length;
        }

        int count = available.Length / messageLength;
        for (int i = 0; i < count; i++)
        {
            tally.TakeMessage(available.Slice(i * messageLength, messageLength));
        }

        _consumer.Advance(count * messageLength);
        return count;
    }

    public void Dispose() => ring.Dispose();
}

/// <summary>Byte streams (anonymous pipes, Unix domain sockets), one per reader: messages go through a 64 KiB <see cref="BufferedStream"/> each, so they cross in 64 KiB writes; bulk pieces are written as they are.</summary>
internal sealed class StreamSender(Stream[] streams, IDisposable? owner) : ISender
{
    private readonly BufferedStream[] _buffered = [.. streams.Select(s => new BufferedStream(s, 64 << 10))];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long SendMessages(Span<byte> scratch, long sequence, int count)
    {
        long checksum = 0;
        for (int i = 0; i < count; i++)
        {
            checksum += TestMessage.Fill(scratch, sequence + i);
            foreach (var stream in _buffered)
            {
                stream.Write(scratch);
            }
        }

        return checksum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SendBytes(long position, int size, int count)
    {
        for (int i = 0; i < count; i++)
        {
            var chunk = Tally.PatternAt(position, size);
            position += size;

            // Pieces are gathered into 64 KiB writes (a larger piece goes straight through), as a pipe user batches.
            foreach (var stream in _buffered)
            {
                stream.Write(chunk);
            }
        }
    }

    public void Flush()
    {
        foreach (var stream in _buffered)
        {
            stream.Flush();
        }
    }

    public void Finish()
    {
        Flush();

        foreach (var stream in streams)
        {
            if (stream is NetworkStream network)
            {
                network.Socket.Shutdown(SocketShutdown.Send);
            }
            else
            {
                stream.Dispose();
            }
        }
    }

    public void Dispose()
    {
        foreach (var stream in streams)
        {
            stream.Dispose();
        }

        owner?.Dispose();
    }
}

/// <summary>One reader's end of a byte stream, read 64 KiB at a time; a message split across reads is kept for the next.</summary>
internal sealed class StreamReceiver(Stream stream, int messageLength) : IReceiver
{
    private readonly byte[] _buffer = new byte[Math.Max(64 << 10, messageLength)];
    private int _filled;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Receive(ref Tally tally)
    {
        int read = stream.Read(_buffer, _filled, _buffer.Length - _filled);
        if (read == 0)
        {
            if (_filled != 0)
            {
                tally.Bad++;
            }

            tally.Ended = true;
            return 0;
        }

        if (tally.Bulk)
        {
            tally.TakeBytes(_buffer.AsSpan(0, read));
            return read;
        }

        _filled += read;
        int offset = 0;
        int count = 0;
        for (; _filled - offset >= messageLength; offset += messageLength)
        {
            tally.TakeMessage(_buffer.AsSpan(offset, messageLength));
            count++;
        }

        _buffer.AsSpan(offset, _filled - offset).CopyTo(_buffer);
        _filled -= offset;
        return count;
    }

    public void Dispose() => stream.Dispose();
}

/// <summary>Keeps the pipe server streams alive with the sender (used for <see cref="AnonymousPipeServerStream"/>).</summary>
internal sealed class Owned(params IDisposable[] items) : IDisposable
{
    public void Dispose()
    {
        foreach (var item in items)
        {
            item.Dispose();
        }
    }
}
