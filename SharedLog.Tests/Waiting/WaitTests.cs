using System.Diagnostics;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Waiting;

/// <summary>Waiting inside one process: idle strategies, timeouts, cancellation, disposal, async waits.</summary>
public sealed class WaitTests : IDisposable
{
    /// <summary>Bounds every test, so a wait that never ends fails instead of hanging the run.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Strategies => ["BusySpin", "Yielding", "Backoff", "Blocking", "Block at once"];

    private static IdleStrategy Strategy(string name) => name switch
    {
        "BusySpin" => IdleStrategy.BusySpin,
        "Yielding" => IdleStrategy.Yielding,
        "Backoff" => IdleStrategy.Backoff,
        "Blocking" => IdleStrategy.Blocking,
        _ => IdleStrategy.CreateBlocking(spinCount: 0),
    };

    private (LogWriter Writer, SegmentedLog Log) Create(string name, int segment = 64, long retained = 256, int spare = 2)
        => SegmentedLog.CreateClaimed(name, new SegmentedLogOptions
        {
            SegmentCapacity = segment,
            RetainedCapacity = retained,
            SpareSegments = spare,
            SlowReaderPolicy = SlowReaderPolicy.Block,
            SlowReaderTimeout = TimeSpan.FromSeconds(60),
            Directory = _dir.Path,
        });

    [Theory]
    [MemberData(nameof(Strategies))]
    public async Task Every_strategy_wakes_a_reader_for_each_record(string strategy)
    {
        var (writer, log) = Create("strategies");
        using (writer)
        using (log)
        using (var reader = log.CreateReader(ReadFrom.Latest, Strategy(strategy)))
        {
            var consumer = Task.Factory.StartNew(
                () =>
                {
                    for (long i = 0; i < 200; i++)
                    {
                        while (!reader.TryRead(out var record))
                        {
                            if (!reader.Wait(Bound))
                            {
                                return $"timed out waiting for {i}";
                            }
                        }

                        if (reader.NextSequence != i + 1)
                        {
                            return $"got sequence {reader.NextSequence - 1}, expected {i}";
                        }
                    }

                    return "ok";
                },
                TaskCreationOptions.LongRunning);

            for (long i = 0; i < 200; i++)
            {
                writer.Append(i);
                if (i % 50 == 0)
                {
                    Thread.Sleep(5);
                }
            }

            Assert.Equal("ok", await consumer.WaitAsync(Bound));
        }
    }

    [Theory]
    [MemberData(nameof(Strategies))]
    public async Task Every_strategy_lets_a_writer_blocked_for_space_continue_when_the_reader_advances(string strategy)
    {
        // Two slots of four records, no spare: the ninth append waits for the reader to leave generation 0.
        var (writer, log) = Create("space-" + strategy.Replace(' ', '-'), segment: 4, retained: 4, spare: 0);
        using (log)
        using (writer)
        using (var reader = log.CreateReader(ReadFrom.Oldest))
        {
            writer.IdleStrategy = Strategy(strategy);
            for (long i = 0; i < 8; i++)
            {
                writer.Append(i);
            }

            Assert.False(writer.TryAppend(BitConverter.GetBytes(8L), out _));
            var append = Task.Factory.StartNew(() => writer.Append(8L), TaskCreationOptions.LongRunning);
            await Task.Delay(20);
            for (int i = 0; i < 5; i++)
            {
                Assert.True(reader.TryRead(out _));
            }

            Assert.Equal(8, await append.WaitAsync(Bound));
            Assert.Equal(0, reader.LostCount);
        }
    }

    [Fact]
    public void Wait_returns_false_when_the_timeout_passes()
    {
        var (writer, log) = Create("timeout");
        using (writer)
        using (log)
        using (var reader = log.CreateReader(ReadFrom.Latest))
        {
            Assert.False(reader.Wait(TimeSpan.Zero));
            var waited = Stopwatch.StartNew();
            Assert.False(reader.Wait(TimeSpan.FromMilliseconds(50)));
            Assert.True(waited.ElapsedMilliseconds >= 49, $"a 50 ms wait ended after {waited.ElapsedMilliseconds} ms");

            // A spinning wait starts its deadline after its first round; it still waits the whole timeout.
            reader.IdleStrategy = IdleStrategy.BusySpin;
            waited.Restart();
            Assert.False(reader.Wait(TimeSpan.FromMilliseconds(20)));
            Assert.True(waited.ElapsedMilliseconds >= 19, $"a 20 ms spinning wait ended after {waited.ElapsedMilliseconds} ms");
            Assert.False(reader.Wait(TimeSpan.Zero));
            writer.Append(1L);
            Assert.True(reader.Wait(TimeSpan.Zero));
            Assert.Throws<ArgumentOutOfRangeException>(() => reader.Wait(TimeSpan.FromMilliseconds(-2)));
        }
    }

    [Fact]
    public async Task Wait_throws_when_cancelled()
    {
        var (writer, log) = Create("cancel");
        using (writer)
        using (log)
        using (var reader = log.CreateReader(ReadFrom.Latest))
        {
            using var cts = new CancellationTokenSource();
            var wait = Task.Factory.StartNew(() => reader.Wait(Timeout.InfiniteTimeSpan, cts.Token), TaskCreationOptions.LongRunning);
            await Task.Delay(50);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(Bound));
        }
    }

    [Fact]
    public async Task Wait_ends_false_when_the_reader_is_disposed_from_another_thread()
    {
        var (writer, log) = Create("dispose-sync");
        using (writer)
        using (log)
        {
            var reader = log.CreateReader(ReadFrom.Latest);
            var wait = Task.Factory.StartNew(() => reader.Wait(Timeout.InfiniteTimeSpan), TaskCreationOptions.LongRunning);
            await Task.Delay(50);
            reader.Dispose();
            Assert.False(await wait.WaitAsync(Bound));
        }
    }

    [Fact]
    public async Task WaitAsync_completes_true_when_a_record_is_appended()
    {
        var (writer, log) = Create("async-append");
        using (writer)
        using (log)
        using (var reader = log.CreateReader(ReadFrom.Latest))
        {
            var wait = reader.WaitAsync().AsTask();
            await Task.Delay(20);
            Assert.False(wait.IsCompleted);
            writer.Append(7L);
            Assert.True(await wait.WaitAsync(Bound));
            Assert.True(reader.TryRead(out var record));
            Assert.Equal(7, record.Read<long>());
        }
    }

    [Fact]
    public async Task WaitAsync_throws_when_cancelled_and_completes_false_on_timeout()
    {
        var (writer, log) = Create("async-cancel");
        using (writer)
        using (log)
        using (var reader = log.CreateReader(ReadFrom.Latest))
        {
            using var cts = new CancellationTokenSource();
            var wait = reader.WaitAsync(cts.Token).AsTask();
            await Task.Delay(20);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(Bound));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reader.WaitAsync(cts.Token).AsTask());

            Assert.False(await reader.WaitAsync(TimeSpan.FromMilliseconds(30)).AsTask().WaitAsync(Bound));
            Assert.False(await reader.WaitAsync(TimeSpan.Zero));

            // A short timeout is honoured while the dispatcher already sleeps for a long one.
            var longWait = log.CreateReader(ReadFrom.Latest);
            var pending = longWait.WaitAsync(TimeSpan.FromSeconds(20)).AsTask();
            await Task.Delay(20);
            Assert.False(await reader.WaitAsync(TimeSpan.FromMilliseconds(30)).AsTask().WaitAsync(Bound));
            longWait.Dispose();
            Assert.False(await pending.WaitAsync(Bound));
        }
    }

    [Fact]
    public async Task WaitAsync_completes_false_when_the_reader_or_the_log_is_disposed()
    {
        var (writer, log) = Create("async-dispose");
        using (writer)
        {
            var reader = log.CreateReader(ReadFrom.Latest);
            var wait = reader.WaitAsync().AsTask();
            await Task.Delay(20);
            reader.Dispose();
            Assert.False(await wait.WaitAsync(Bound));

            var second = log.CreateReader(ReadFrom.Latest);
            var third = log.CreateReader(ReadFrom.Latest);
            var waits = new[] { second.WaitAsync().AsTask(), third.WaitAsync().AsTask() };
            await Task.Delay(20);
            log.Dispose();
            foreach (var pending in waits)
            {
                Assert.False(await pending.WaitAsync(Bound));
            }

            Assert.False(second.Wait(TimeSpan.FromSeconds(10)));
            second.Dispose();
            third.Dispose();
        }
    }

    [Fact]
    public async Task Many_async_waiters_share_one_dispatcher_and_all_wake_on_one_append()
    {
        var (writer, log) = Create("async-many", segment: 64, retained: 64);
        using (writer)
        using (log)
        {
            var readers = Enumerable.Range(0, 40).Select(_ => log.CreateReader(ReadFrom.Latest)).ToArray();
            var waits = readers.Select(r => r.WaitAsync().AsTask()).ToArray();
            await Task.Delay(50);
            Assert.Equal(40, log.File.Shared.DataSignal.Dispatcher.Count);
            Assert.All(waits, w => Assert.False(w.IsCompleted));
            writer.Append(1L);
            Assert.All(await Task.WhenAll(waits).WaitAsync(Bound), Assert.True);
            foreach (var reader in readers)
            {
                reader.Dispose();
            }
        }
    }

    [Fact]
    public async Task Only_one_WaitAsync_may_be_pending_per_reader()
    {
        var (writer, log) = Create("async-twice");
        using (writer)
        using (log)
        using (var reader = log.CreateReader(ReadFrom.Latest))
        {
            var first = reader.WaitAsync().AsTask();
            Assert.Throws<InvalidOperationException>(() => { _ = reader.WaitAsync().AsTask(); });
            writer.Append(1L);
            Assert.True(await first.WaitAsync(Bound));
        }
    }

    [Fact]
    public void Idle_strategies_validate_their_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => IdleStrategy.CreateBlocking(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => IdleStrategy.CreateBackoff(spinCount: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => IdleStrategy.CreateBackoff(maxSleep: TimeSpan.FromMicroseconds(10)));
        Assert.Same(IdleStrategy.Blocking, IdleStrategy.Default);
        Assert.True(IdleStrategy.Blocking.Blocks);
        Assert.False(IdleStrategy.Backoff.Blocks);
        Assert.Equal("Backoff(spins 8, yields 4, max sleep 5 ms)", IdleStrategy.CreateBackoff(8, 4, TimeSpan.FromMilliseconds(5)).ToString());

        var (writer, log) = Create("validate");
        using (writer)
        using (log)
        using (var reader = log.CreateReader())
        {
            Assert.Same(IdleStrategy.Default, reader.IdleStrategy);
            Assert.Throws<ArgumentNullException>(() => reader.IdleStrategy = null!);
            Assert.Throws<ArgumentNullException>(() => writer.IdleStrategy = null!);
        }
    }
}
