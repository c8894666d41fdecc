using System.Globalization;
using SharedLog.Platform;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Platform;

/// <summary>
/// The sleeper's half of the asymmetric handshake: a process that keeps full fences itself (it could not register, or
/// opted out with <c>SHAREDLOG_SYMMETRIC_FENCES=1</c>) still shares files with processes whose notifiers skip theirs,
/// so before it sleeps it must still run the barrier in them.
/// </summary>
public sealed class AsymmetricFenceTests
{
    private const string OptOut = "SHAREDLOG_SYMMETRIC_FENCES";

    [SkippableFact]
    public void A_process_that_opts_out_still_runs_the_barrier_in_registered_processes()
    {
        // Needs a kernel with membarrier's global expedited command, which this process registered for.
        Skip.IfNot(AsymmetricFence.IsEnabled, "membarrier global expedited is not available here");

        using var child = Child.Start("fence-report", new Dictionary<string, string?> { [OptOut] = "1" });
        child.AssertSuccess(TimeSpan.FromSeconds(60));

        // The child keeps its own fences (not registered), and its barrier still reaches this process's threads.
        Assert.Contains("registered False", child.Output, StringComparison.Ordinal);
        Assert.Contains("barrier True", child.Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_registered_process_runs_the_barrier()
    {
        Skip.IfNot(AsymmetricFence.IsEnabled, "membarrier global expedited is not available here");
        Assert.True(AsymmetricFence.Barrier());
    }

    /// <summary>Prints whether this process registered and whether its barrier ran.</summary>
    [ChildRole("fence-report")]
    public static int Report(string[] args)
    {
        _ = args;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"registered {AsymmetricFence.IsEnabled}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"barrier {AsymmetricFence.Barrier()}"));
        return 0;
    }
}
