namespace SharedLog.Tests.Infrastructure;

/// <summary>
/// Soak switch: tests marked <c>[Trait("Category", "Stress")]</c> run a small default amount in every run and the long
/// variant when <c>SHAREDLOG_STRESS=1</c> (set by <c>scripts/stress.sh</c>).
/// </summary>
public static class Stress
{
    public const string Category = "Stress";

    public static bool Enabled => Environment.GetEnvironmentVariable("SHAREDLOG_STRESS") == "1";

    /// <summary>The default amount, or the soak amount under <c>SHAREDLOG_STRESS=1</c>.</summary>
    public static int Pick(int normal, int stress) => Enabled ? stress : normal;
}
