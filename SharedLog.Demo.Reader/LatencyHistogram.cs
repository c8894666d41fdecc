using System.Numerics;

namespace SharedLog.Demo.Reader;

/// <summary>
/// Latencies in nanoseconds, in log-linear buckets: each power of two is split into 16 buckets, so a percentile is
/// within 6.25% of the true value, from 1 ns to hours, in a fixed 5 KiB with no allocation per sample.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBucketBits = 4;
    private const int SubBuckets = 1 << SubBucketBits;
    private readonly long[] _counts = new long[(64 - SubBucketBits + 1) * SubBuckets];

    /// <summary>Samples recorded.</summary>
    public long Count { get; private set; }

    /// <summary>The largest sample.</summary>
    public long Max { get; private set; }

    /// <summary>Records one latency (negative values count as 0).</summary>
    public void Record(long nanoseconds)
    {
        long value = Math.Max(0, nanoseconds);
        _counts[BucketOf(value)]++;
        Count++;
        Max = Math.Max(Max, value);
    }

    /// <summary>The latency below which <paramref name="percentile"/> percent of the samples fall (upper bucket edge), or 0 when empty.</summary>
    public long Percentile(double percentile)
    {
        long rank = (long)Math.Ceiling(Count * percentile / 100);
        long seen = 0;
        for (int bucket = 0; bucket < _counts.Length; bucket++)
        {
            seen += _counts[bucket];
            if (seen >= Math.Max(rank, 1))
            {
                return Math.Min(UpperEdge(bucket), Max);
            }
        }

        return 0;
    }

    /// <summary>Adds another histogram's samples to this one.</summary>
    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>Forgets every sample.</summary>
    public void Clear()
    {
        Array.Clear(_counts);
        Count = 0;
        Max = 0;
    }

    // Values below 16 get a bucket each; above, bucket = 16 × (magnitude − 3) + the 4 bits after the leading one.
    private static int BucketOf(long value)
    {
        if (value < SubBuckets)
        {
            return (int)value;
        }

        int magnitude = 63 - BitOperations.LeadingZeroCount((ulong)value);
        int sub = (int)(value >> (magnitude - SubBucketBits)) & (SubBuckets - 1);
        return ((magnitude - SubBucketBits + 1) * SubBuckets) + sub;
    }

    private static long UpperEdge(int bucket)
    {
        if (bucket < SubBuckets)
        {
            return bucket;
        }

        int magnitude = (bucket / SubBuckets) + SubBucketBits - 1;
        long sub = bucket % SubBuckets;
        long lower = (SubBuckets + sub) << (magnitude - SubBucketBits);
        return lower + (1L << (magnitude - SubBucketBits)) - 1;
    }
}
