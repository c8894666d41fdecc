using System.Diagnostics;
using System.Globalization;
using SharedLog.Tests.Infrastructure;
using Xunit.Abstractions;

namespace SharedLog.Tests.CrossProcess;

/// <summary>Processes racing for the writer lease: exactly one wins, whether the lease was free or its holder died.</summary>
[Collection(ProcessTests.Collection)]
public sealed class WriterClaimRaceTests : IDisposable
{
    private const int Racers = 3;
    private readonly TempDirectory _dir = new();
    private readonly ITestOutputHelper _output;

    public WriterClaimRaceTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _dir.Dispose();

    [Fact]
    [Trait("Category", Stress.Category)]
    public void Exactly_one_process_wins_each_claim_race()
    {
        int rounds = Stress.Pick(100, 1000);
        using var log = SegmentedLog.Create("race", new SegmentedLogOptions { SegmentCapacity = 16, RetainedCapacity = 64, Directory = _dir.Path });
        using var fields = new FileFields(log);
        var children = Enumerable.Range(0, Racers).Select(_ => Child.Start("claim-racer", _dir.Path, "race")).ToArray();
        try
        {
            foreach (var child in children)
            {
                child.WaitForLine("ready", TimeSpan.FromSeconds(30));
            }

            var spreads = new List<double>();
            var wins = new int[Racers];
            long expectedNext = 0;
            for (int round = 0; round < rounds; round++)
            {
                // Every other round the lease belongs to a writer that was killed: the racers take over a dead lease.
                if (round % 2 == 1)
                {
                    fields.AbandonWriterLease();
                }

                // All racers claim at the same instant (a machine-wide monotonic clock), not when each reads its line.
                long at = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 50);
                foreach (var child in children)
                {
                    child.WriteLine($"go {round} {at}");
                }

                int winner = -1;
                var claimedAt = new long[Racers];
                for (int c = 0; c < Racers; c++)
                {
                    string[] parts = children[c].WaitForLine($"round {round} ", TimeSpan.FromSeconds(30)).Split(' ');
                    claimedAt[c] = long.Parse(parts[3], CultureInfo.InvariantCulture);
                    if (parts[2] == "1")
                    {
                        Assert.True(winner < 0, $"round {round}: racers {winner} and {c} both claimed the writer");
                        winner = c;
                    }
                }

                Assert.True(winner >= 0, $"round {round}: nobody claimed the writer");
                Assert.Equal(children[winner].Pid, log.WriterProcessId);
                wins[winner]++;
                spreads.Add(Stopwatch.GetElapsedTime(claimedAt.Min(), claimedAt.Max()).TotalMicroseconds);

                // The winner appended one record; whoever wins next continues after it.
                Assert.Equal(expectedNext + 1, log.GetStatus().NextSequence);
                expectedNext++;
                foreach (var child in children)
                {
                    child.WriteLine($"release {round}");
                }

                foreach (var child in children)
                {
                    child.WaitForLine($"released {round}", TimeSpan.FromSeconds(30));
                }
            }

            foreach (var child in children)
            {
                child.WriteLine("exit");
                child.AssertSuccess(TimeSpan.FromSeconds(30));
            }

            spreads.Sort();
            _output.WriteLine($"{rounds} rounds, wins per racer {string.Join("/", wins)}; claims of a round finished within " +
                $"{spreads[spreads.Count / 2]:F0} us of each other (median), {spreads[^1]:F0} us (max)");
        }
        finally
        {
            foreach (var child in children)
            {
                child.Dispose();
            }
        }
    }

    [ChildRole("claim-racer")]
    public static int ClaimRacer(string[] args)
    {
        using var log = SegmentedLog.Open(args[1], args[0]);
        LogWriter? held = null;
        Console.WriteLine("ready");
        while (Console.ReadLine() is { } line)
        {
            string[] parts = line.Split(' ');
            switch (parts[0])
            {
                case "go":
                    long at = long.Parse(parts[2], CultureInfo.InvariantCulture);
                    while (Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), at) > TimeSpan.FromMilliseconds(2))
                    {
                        Thread.Sleep(1);
                    }

                    while (Stopwatch.GetTimestamp() < at)
                    {
                        Thread.SpinWait(8);
                    }

                    bool won = log.TryClaimWriter(out held);
                    long claimedAt = Stopwatch.GetTimestamp();
                    held?.Append(held.NextSequence);
                    Console.WriteLine($"round {parts[1]} {(won ? 1 : 0)} {claimedAt}");
                    break;
                case "release":
                    held?.Dispose();
                    held = null;
                    Console.WriteLine($"released {parts[1]}");
                    break;
                default:
                    held?.Dispose();
                    return 0;
            }
        }

        return 0;
    }
}
