using System.Diagnostics;
using System.Runtime;

namespace SharedLog.Benchmarks.Suite;

/// <summary>
/// Decides when a process's code is optimised: tiered compilation first runs methods unoptimised, then recompiles
/// the hot ones (after a 100 ms delay, 30 calls, and an instrumented tier in between) on a background thread. Every
/// compilation, tier-1 recompilations and on-stack replacements included, raises
/// <see cref="JitInfo.GetCompiledMethodCount(bool)"/>; warm-up is over when that count has not moved for
/// <see cref="Stable"/> after at least <see cref="Minimum"/> of running the measured loop, or has timed out after
/// <see cref="Maximum"/>.
/// </summary>
/// <remarks>
/// The count is also still while the runtime waits out its tiering delay, before any recompilation starts, and that
/// delay is ten times longer (1 s) in a process that may run on one CPU, as every pinned benchmark process is. A
/// quiet period shorter than the delay ends the warm-up before tiering has begun: the suite once measured a whole
/// window of unoptimised code that way. So <see cref="Stable"/> is at least one and a half times the delay.
/// </remarks>
public sealed class JitWarmup
{
    private readonly long _start;
    private long _lastChange;
    private long _lastCount;
    private long _nextPoll;

    /// <summary>Starts watching now.</summary>
    public JitWarmup(TimeSpan minimum, TimeSpan stable, TimeSpan maximum)
    {
        Minimum = minimum;
        Stable = TimeSpan.FromTicks(Math.Max(stable.Ticks, TieringDelay.Ticks * 3 / 2));
        Maximum = maximum;
        _start = Stopwatch.GetTimestamp();
        _lastChange = _start;
        _lastCount = JitInfo.GetCompiledMethodCount();
    }

    /// <summary>
    /// The runtime's default tiering delay for this process: 100 ms (<c>TC_CallCountingDelayMs</c>), times 10
    /// (<c>TC_DelaySingleProcMultiplier</c>) when the process may use one CPU only.
    /// </summary>
    public static TimeSpan TieringDelay => TimeSpan.FromMilliseconds(Environment.ProcessorCount == 1 ? 1000 : 100);

    /// <summary>Shortest warm-up.</summary>
    public TimeSpan Minimum { get; }

    /// <summary>How long the compiled-method count must stay still.</summary>
    public TimeSpan Stable { get; }

    /// <summary>Longest warm-up; past it <see cref="TimedOut"/> is set.</summary>
    public TimeSpan Maximum { get; }

    /// <summary>Warm-up is over (finished or timed out).</summary>
    public bool Done { get; private set; }

    /// <summary>Warm-up ended by <see cref="Maximum"/>, with compilations still going on.</summary>
    public bool TimedOut { get; private set; }

    /// <summary>How long warm-up took, once <see cref="Done"/>.</summary>
    public TimeSpan Elapsed { get; private set; }

    /// <summary>Methods compiled by the process when warm-up ended.</summary>
    public long CompiledMethods { get; private set; }

    /// <summary>Status code for the control words: 1 finished, 2 timed out, 0 still warming up.</summary>
    public int Status => !Done ? 0 : TimedOut ? 2 : 1;

    /// <summary>Looks at the compiled-method count at most once a millisecond; returns <see cref="Done"/>.</summary>
    public bool Poll(long now)
    {
        if (Done || now < _nextPoll)
        {
            return Done;
        }

        _nextPoll = now + Stopwatch.Frequency / 1000;
        long count = JitInfo.GetCompiledMethodCount();
        if (count != _lastCount)
        {
            _lastCount = count;
            _lastChange = now;
        }

        var elapsed = Stopwatch.GetElapsedTime(_start, now);
        bool settled = elapsed >= Minimum && Stopwatch.GetElapsedTime(_lastChange, now) >= Stable;
        if (settled || elapsed >= Maximum)
        {
            Done = true;
            TimedOut = !settled;
            Elapsed = elapsed;
            CompiledMethods = count;
        }

        return Done;
    }

    /// <summary>Result fields: warm-up status, milliseconds, compiled methods.</summary>
    public (string Key, object Value)[] Fields(string prefix) =>
    [
        (prefix + "warm", Status),
        (prefix + "warm_ms", (long)Elapsed.TotalMilliseconds),
        (prefix + "jit", CompiledMethods),
    ];
}
