namespace SharedLog.Nats.Tests.Infrastructure;

/// <summary>
/// Soak switch, as in SharedLog.Tests: tests marked <c>[Trait("Category", "Stress")]</c> run a small default amount and
/// the long variant when <c>SHAREDLOG_STRESS=1</c> (set by <c>scripts/stress.sh</c>).
/// </summary>
public static class Stress
{
    public const string Category = "Stress";

    public static bool Enabled => Environment.GetEnvironmentVariable("SHAREDLOG_STRESS") == "1";

    public static int Pick(int normal, int stress) => Enabled ? stress : normal;
}
