using BenchmarkDotNet.Running;

namespace SharedLog.Benchmarks;

/// <summary>Microbenchmarks (BenchmarkDotNet) and cross-process comparisons against baselines.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
