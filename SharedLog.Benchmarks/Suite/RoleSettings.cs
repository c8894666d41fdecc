using System.Diagnostics;
using System.Globalization;
using SharedLog.Benchmarks.CrossProcess;

namespace SharedLog.Benchmarks.Suite;

/// <summary>What one measurement's processes are told on their command lines; the lead passes it on to its followers.</summary>
internal sealed record RoleSettings(
    string Transport,
    bool Bulk,
    int Size,
    int Readers,
    double Seconds,
    int LeadCpu,
    int FollowerCpu,
    TimeSpan WarmupMinimum,
    TimeSpan WarmupStable,
    TimeSpan WarmupMaximum,
    string Directory,
    string ReaderIdle = "default")
{
    /// <summary>Reads the settings from a role's options.</summary>
    public static RoleSettings Parse(BenchOptions options) => new(
        options.Text("transport", "log"),
        options.Text("mode", "messages") == "bytes",
        (int)options.Integer("size", 64),
        (int)options.Integer("readers", 1),
        options.Number("seconds", 0.5),
        (int)options.Integer("lead-cpu", -1),
        (int)options.Integer("follower-cpu", -1),
        TimeSpan.FromMilliseconds(options.Number("warmup-min-ms", 500)),
        TimeSpan.FromMilliseconds(options.Number("warmup-stable-ms", 300)),
        TimeSpan.FromMilliseconds(options.Number("warmup-max-ms", 10_000)),
        options.TextOrNull("dir") ?? throw new ArgumentException("--dir is required"),
        options.Text("reader-idle", "default"));

    /// <summary>The settings as options, for a child's command line.</summary>
    public List<string> ToArgs() =>
    [
        "--transport", Transport,
        "--mode", Bulk ? "bytes" : "messages",
        "--size", Invariant(Size),
        "--readers", Invariant(Readers),
        "--seconds", Invariant(Seconds),
        "--lead-cpu", Invariant(LeadCpu),
        "--follower-cpu", Invariant(FollowerCpu),
        "--warmup-min-ms", Invariant(WarmupMinimum.TotalMilliseconds),
        "--warmup-stable-ms", Invariant(WarmupStable.TotalMilliseconds),
        "--warmup-max-ms", Invariant(WarmupMaximum.TotalMilliseconds),
        "--dir", Directory,
        "--reader-idle", ReaderIdle,
    ];

    /// <summary>
    /// The idle strategy of SharedLog readers in throughput runs: <c>default</c> (<see cref="IdleStrategy.Default"/>),
    /// <c>spin</c>, <c>yield</c>, <c>backoff</c> or <c>block0</c> (blocking without a spin phase).
    /// </summary>
    public IdleStrategy ReaderIdleStrategy => ReaderIdle switch
    {
        "default" => IdleStrategy.Default,
        "spin" => IdleStrategy.BusySpin,
        "yield" => IdleStrategy.Yielding,
        "backoff" => IdleStrategy.Backoff,
        "block0" => IdleStrategy.CreateBlocking(spinCount: 0),
        _ => throw new ArgumentException($"unknown --reader-idle '{ReaderIdle}' (default, spin, yield, backoff, block0)"),
    };

    /// <summary>A new warm-up watcher with these limits.</summary>
    public JitWarmup NewWarmup() => new(WarmupMinimum, WarmupStable, WarmupMaximum);

    /// <summary>When a lead stops waiting for its followers' warm-up (twice the longest warm-up, plus 5 s, from now).</summary>
    public long WarmupGiveUp() => Stopwatch.GetTimestamp() + (long)((WarmupMaximum.TotalSeconds * 2 + 5) * Stopwatch.Frequency);

    public string ControlPath => Path.Combine(Directory, "control");

    private static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);
}
