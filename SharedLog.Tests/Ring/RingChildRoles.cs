using System.Globalization;
using System.Security.Cryptography;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Ring;

/// <summary>Child-process roles for the ring's cross-process and crash tests (see <see cref="ChildMain"/>).</summary>
public static class RingChildRoles
{
    /// <summary>
    /// Reads a ring to its end with a mix of Read, batched Read, ReadAsync and GetReadSpans and prints the SHA-256 of what it got.
    /// Args: directory name seed [pauseMs everyBytes]. Prints "ready", then "sha HEX count lost".
    /// </summary>
    [ChildRole("ring-read-sha")]
    public static int ReadSha(string[] args)
    {
        using var ring = ByteRing.Open(args[1], args[0]);
        using var reader = ring.CreateReader(ReadFrom.Oldest);
        var random = new Random(int.Parse(args[2], CultureInfo.InvariantCulture));
        int pauseMs = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 0;
        long every = args.Length > 4 ? long.Parse(args[4], CultureInfo.InvariantCulture) : long.MaxValue;
        Console.WriteLine("ready");

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        long count = 0;
        long nextPause = every;
        while (true)
        {
            int mode = random.Next(4);
            int size = random.Next(4) switch
            {
                0 => random.Next(1, 16),
                1 => random.Next(1, 4096),
                2 => random.Next(1, 65536),
                _ => buffer.Length,
            };
            int read;
            if (mode is 0 or 3)
            {
                // Mode 3 batches: it lingers up to 50 µs for up to the whole read.
                read = mode == 0
                    ? reader.Read(buffer.AsSpan(0, size))
                    : reader.Read(buffer.AsSpan(0, size), random.Next(size + 1), TimeSpan.FromMicroseconds(random.Next(50)));
                if (read == 0 && !reader.IsCompleted)
                {
                    reader.Wait(Timeout.InfiniteTimeSpan);
                    continue;
                }

                hash.AppendData(buffer, 0, read);
            }
            else if (mode == 1)
            {
                read = reader.ReadAsync(buffer.AsMemory(0, size)).AsTask().GetAwaiter().GetResult();
                hash.AppendData(buffer, 0, read);
            }
            else
            {
                int available = reader.GetReadSpans(out var first, out var second);
                if (available == 0 && !reader.IsCompleted)
                {
                    reader.Wait(Timeout.InfiniteTimeSpan);
                    continue;
                }

                read = Math.Min(available, size);
                int inFirst = Math.Min(read, first.Length);
                hash.AppendData(first[..inFirst]);
                hash.AppendData(second[..(read - inFirst)]);
                reader.Advance(read);
            }

            count += read;
            if (read == 0 && reader.IsCompleted)
            {
                break;
            }

            if (count >= nextPause)
            {
                nextPause += every;
                Thread.Sleep(pauseMs);
            }
        }

        Console.WriteLine($"sha {Convert.ToHexString(hash.GetHashAndReset())} {count} {reader.LostBytes}");
        return 0;
    }

    /// <summary>
    /// Reads a ring to its end and checks every byte against <see cref="RingContent"/> at its position.
    /// Args: directory name [pauseMs everyBytes]. Prints "ready", then "result received lost position"; exit 1 on a wrong byte.
    /// </summary>
    [ChildRole("ring-read-verify")]
    public static int ReadVerify(string[] args)
    {
        using var ring = ByteRing.Open(args[1], args[0]);
        using var reader = ring.CreateReader(ReadFrom.Oldest);
        int pauseMs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0;
        long every = args.Length > 3 ? long.Parse(args[3], CultureInfo.InvariantCulture) : long.MaxValue;
        long start = reader.Position;
        Console.WriteLine("ready");

        var buffer = new byte[3000];
        long received = 0;
        long nextPause = every;
        int read;
        while ((read = reader.ReadAsync(buffer).AsTask().GetAwaiter().GetResult()) > 0)
        {
            int bad = RingContent.Mismatch(buffer.AsSpan(0, read), reader.Position - read);
            if (bad >= 0)
            {
                Console.WriteLine($"wrong byte at position {reader.Position - read + bad}");
                return 1;
            }

            received += read;
            if (received >= nextPause)
            {
                nextPause += every;
                Thread.Sleep(pauseMs);
            }
        }

        Console.WriteLine($"result {received} {reader.LostBytes} {reader.Position - start}");
        return 0;
    }

    /// <summary>Writes <see cref="RingContent"/> for positions [0, count) to stdout. Args: count.</summary>
    [ChildRole("ring-emit")]
    public static int Emit(string[] args)
    {
        long count = long.Parse(args[0], CultureInfo.InvariantCulture);
        using var stdout = Console.OpenStandardOutput();
        var chunk = new byte[10_000];
        for (long position = 0; position < count; position += chunk.Length)
        {
            int length = (int)Math.Min(chunk.Length, count - position);
            RingContent.Fill(chunk.AsSpan(0, length), position);
            stdout.Write(chunk, 0, length);
        }

        return 0;
    }

    /// <summary>
    /// Claims the writer and writes <see cref="RingContent"/> forever in small chunks (to be killed).
    /// Args: directory name. Prints "claimed POSITION", then "progress" once 1 MiB is written.
    /// </summary>
    [ChildRole("ring-write-forever")]
    public static int WriteForever(string[] args)
    {
        using var ring = ByteRing.Open(args[1], args[0]);
        if (!ring.TryClaimWriter(out var writer))
        {
            Console.WriteLine("not claimed");
            return 1;
        }

        Console.WriteLine($"claimed {writer.Position}");
        var chunk = new byte[4099];
        bool reported = false;
        while (true)
        {
            RingContent.Fill(chunk, writer.Position);
            writer.WriteAsync(chunk).AsTask().GetAwaiter().GetResult();
            if (!reported && writer.Position >= 1 << 20)
            {
                reported = true;
                Console.WriteLine("progress");
            }
        }
    }

    /// <summary>Creates a reader at the oldest byte and holds it without reading (to be killed). Args: directory name.</summary>
    [ChildRole("ring-hold-reader")]
    public static int HoldReader(string[] args)
    {
        using var ring = ByteRing.Open(args[1], args[0]);
        using var reader = ring.CreateReader(ReadFrom.Oldest);
        Console.WriteLine($"ready {reader.Position}");
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }
}
