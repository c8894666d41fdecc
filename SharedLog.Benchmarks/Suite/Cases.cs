namespace SharedLog.Benchmarks.Suite;

/// <summary>One thing the suite measures: a transport in a group, at a size, with a number of readers, pinned or not.</summary>
/// <param name="Group"><c>throughput</c> (messages), <c>bulk</c> (bytes), <c>spin</c> or <c>blocking</c> (round trips).</param>
/// <param name="Baselines">Transports of the same group, size, readers and pinning this one is compared with; the first is the main one.</param>
/// <param name="Companions">Further figures a paired run measures in the same processes, after its baselines (each a case of its own).</param>
internal sealed record Case(string Group, string Transport, int Size, int Readers, bool Pinned, string[] Baselines, string[]? Companions = null)
{
    public bool Bulk => Group == "bulk";

    public bool RoundTrip => Group is "spin" or "blocking";

    /// <summary>A baseline measured in the same processes as its figure (alternate bursts), not in runs of its own.</summary>
    public bool MeasuredWithItsFigure => Transport is "raw-spin-paired" or "raw-paired" or "pipe-paired" or "ring-batch-paired" or "log-linger-paired";

    /// <summary>What a paired run measures after the figure, in order: its baselines, then its companions.</summary>
    public string[] Sides => [.. Baselines, .. Companions ?? []];

    /// <summary>A figure whose run also measures its baselines, in turns, in the same processes.</summary>
    public bool Paired => Transport is "log-spin-paired" or "ring-paired" or "log-paired";

    /// <summary>The unit of <see cref="RunResult.Value"/>.</summary>
    public string Unit => Group switch
    {
        "throughput" => "msg/s",
        "bulk" => "GB/s",
        _ => "ns",
    };

    /// <summary>Whether larger is better.</summary>
    public bool HigherIsBetter => !RoundTrip;

    public string Pinning => Pinned ? "pinned" : "unpinned";

    public string Id => $"{Group}/{Transport}/{Size}B/{Readers}r/{Pinning}";

    /// <summary>The case of <paramref name="transport"/> that shares this one's group, size, readers and pinning.</summary>
    public string SiblingId(string transport) => $"{Group}/{transport}/{Size}B/{Readers}r/{Pinning}";

    /// <summary>A human name for a transport.</summary>
    public static string Label(string transport) => transport switch
    {
        "log" => "SharedLog log",
        "log-batch" => "log, TryReadBatch",
        "log-linger" => "log, batches of 256 or 2 µs",
        "raw" => "raw ring",
        "pipe" => "pipe 64 KiB",
        "uds" => "UDS 64 KiB",
        "ring" => "SharedLog ByteRing",
        "log-spin" => "log, busy-spin",
        "raw-spin" => "raw ring, busy-spin",
        "log-spin-paired" => "log, busy-spin, paired",
        "raw-spin-paired" => "raw ring, busy-spin, paired",
        "ring-paired" => "ByteRing, paired",
        "ring-batch-paired" => "ByteRing, reads batched (16 KiB or 2 µs), paired",
        "log-paired" => "log, paired",
        "log-linger-paired" => "log, batches of 256 or 2 µs, paired",
        "pipe-paired" => "pipe 64 KiB, paired",
        "ring-gather" => "ByteRing, pieces gathered per 64 KiB",
        "raw-paired" => "raw ring, paired",
        "log-block" => "log, blocking (no spin)",
        "log-default" => "log, default (spin, then block)",
        "futex" => "raw futex",
        _ => transport,
    };
}

/// <summary>How much the suite measures, and for how long.</summary>
internal sealed record Plan(
    string Mode,
    int Runs,
    double ThroughputSeconds,
    double RoundTripSeconds,
    TimeSpan WarmupMinimum,
    TimeSpan WarmupStable,
    TimeSpan WarmupMaximum,
    bool Pinning = true,
    string ReaderIdle = "default")
{
    /// <summary>
    /// About two minutes on an idle two-core machine: 64 B and 4 KiB messages to one reader (all four transports,
    /// pinned; log and raw ring unpinned at 64 B), 64 KiB bulk writes, the spinning and no-spin blocking round trips.
    /// </summary>
    public static Plan Quick => new("quick", 3, 0.25, 0.25, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(4));

    /// <summary>
    /// About ten minutes on two cores: every size and reader count pinned; unpinned, every size to one reader (no
    /// socket) and 64 B to three (log and raw ring); bulk pinned; every round trip pinned and unpinned.
    /// </summary>
    public static Plan Default => new("default", 3, 0.3, 0.3, TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(6));

    /// <summary>Five runs of everything, pinned and unpinned, with 1 s windows.</summary>
    public static Plan Full => new("full", 5, 1, 1, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(10));

    /// <summary>The cases, in the order one run measures them (interleaved, so every transport of a comparison sees the same machine).</summary>
    public List<Case> Cases(ISet<string> groups) => [.. All().Where(c => groups.Contains(c.Group) && Includes(c) && (Pinning || !c.Pinned))];

    private static IEnumerable<Case> All()
    {
        foreach (bool pinned in new[] { true, false })
        {
            foreach (int readers in new[] { 1, 3 })
            {
                foreach (int size in new[] { 64, 256, 4096 })
                {
                    yield return new Case("throughput", "log", size, readers, pinned, ["raw", "pipe", "uds", "log-batch"]);
                    yield return new Case("throughput", "log-batch", size, readers, pinned, []);
                    yield return new Case("throughput", "log-linger", size, readers, pinned, ["log", "raw", "pipe"]);
                    yield return new Case("throughput", "raw", size, readers, pinned, []);
                    yield return new Case("throughput", "pipe", size, readers, pinned, []);
                    yield return new Case("throughput", "uds", size, readers, pinned, []);
                }

                if (readers == 1)
                {
                    yield return new Case("throughput", "log-paired", 64, 1, pinned, ["raw-paired", "pipe-paired"], ["log-linger-paired"]);
                    yield return new Case("throughput", "log-linger-paired", 64, 1, pinned, ["raw-paired", "pipe-paired"]);
                    yield return new Case("throughput", "raw-paired", 64, 1, pinned, []);
                    yield return new Case("throughput", "pipe-paired", 64, 1, pinned, []);
                }
            }

            yield return new Case("bulk", "ring", 64, 1, pinned, ["raw", "pipe", "uds"]);
            yield return new Case("bulk", "ring-gather", 64, 1, pinned, ["pipe", "raw"]);
            yield return new Case("bulk", "raw", 64, 1, pinned, []);
            yield return new Case("bulk", "pipe", 64, 1, pinned, []);
            yield return new Case("bulk", "uds", 64, 1, pinned, []);
            yield return new Case("bulk", "ring", 64 << 10, 1, pinned, ["raw", "pipe", "uds"]);
            yield return new Case("bulk", "raw", 64 << 10, 1, pinned, []);
            yield return new Case("bulk", "pipe", 64 << 10, 1, pinned, []);
            yield return new Case("bulk", "uds", 64 << 10, 1, pinned, []);
            foreach (int size in new[] { 64, 64 << 10 })
            {
                yield return new Case("bulk", "ring-paired", size, 1, pinned, ["raw-paired", "pipe-paired"], ["ring-batch-paired"]);
                yield return new Case("bulk", "ring-batch-paired", size, 1, pinned, ["raw-paired", "pipe-paired"]);
                yield return new Case("bulk", "raw-paired", size, 1, pinned, []);
                yield return new Case("bulk", "pipe-paired", size, 1, pinned, []);
            }

            yield return new Case("spin", "log-spin", 8, 1, pinned, ["raw-spin"]);
            yield return new Case("spin", "raw-spin", 8, 1, pinned, []);
            yield return new Case("spin", "log-spin-paired", 8, 1, pinned, ["raw-spin-paired"]);
            yield return new Case("spin", "raw-spin-paired", 8, 1, pinned, []);
            if (Native.HasFutex)
            {
                yield return new Case("blocking", "log-block", 8, 1, pinned, ["futex"]);
                yield return new Case("blocking", "log-default", 8, 1, pinned, ["futex"]);
                yield return new Case("blocking", "futex", 8, 1, pinned, []);
            }
        }
    }

    private bool Includes(Case c) => Mode switch
    {
        "quick" => c.Group switch
        {
            "throughput" => c.Readers == 1 && c.Size != 256 && c.Transport is not ("log-batch" or "log-linger") && (c.Pinned || (c.Size == 64 && c.Transport is "log" or "raw")),
            "bulk" => c.Pinned && c.Size == 64 << 10 && c.Transport is "ring" or "raw",
            "blocking" => c.Pinned && c.Transport != "log-default",
            _ => c.Pinned,
        },
        "default" => c.Group switch
        {
            "throughput" => (c.Transport is not ("log-batch" or "log-linger") || c.Size == 64) && (c.Pinned
                || (c.Readers == 1 && c.Transport != "uds")
                || (c.Size == 64 && c.Transport is "log" or "raw" or "log-batch" or "log-linger")),
            "bulk" => c.Pinned,
            _ => true,
        },
        _ => true,
    };
}
