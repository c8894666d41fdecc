using System.Globalization;
using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Ring;

/// <summary>A writer process killed with SIGKILL mid-stream.</summary>
public sealed class RingCrashTests : IDisposable
{
    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task A_killed_writer_is_reported_to_waiting_readers_and_a_new_writer_continues_at_its_position()
    {
        using var ring = ByteRing.Create("crash", new ByteRingOptions
        {
            Capacity = 64 * 1024,
            SlowReaderTimeout = TimeSpan.FromMinutes(5),
            Directory = _dir.Path,
        });
        using var reader = ring.CreateReader();
        using var safety = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var buffer = new byte[5000];
        string? wrong = null;

        async Task<Exception?> ReadUntilFailureOrEnd()
        {
            try
            {
                int read;
                while ((read = await reader.ReadAsync(buffer, safety.Token)) > 0)
                {
                    if (RingContent.Mismatch(buffer.AsSpan(0, read), reader.Position - read) is var bad and >= 0)
                    {
                        wrong ??= $"wrong byte at {reader.Position - read + bad}";
                    }
                }

                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }

        using (var child = Child.Start("ring-write-forever", _dir.Path, "crash"))
        {
            var reading = Task.Run(ReadUntilFailureOrEnd);
            Assert.Equal("claimed 0", child.WaitForLine("claimed", ChildTimeout));
            child.WaitForLine("progress", ChildTimeout);
            Assert.False(ring.TryClaimWriter(out _));
            child.Kill();

            var failure = await reading;
            var died = Assert.IsType<WriterDiedException>(failure);
            Assert.Equal(child.Pid, died.WriterProcessId);
            Assert.Contains("died without completing the stream", died.Message, StringComparison.Ordinal);
            Assert.Contains(child.Pid.ToString(CultureInfo.InvariantCulture), died.Message, StringComparison.Ordinal);
        }

        // Everything the dead writer published was read, and nothing was lost (Block).
        long published = ring.WriterPosition;
        Assert.True(published >= 1 << 20);
        Assert.Equal(published, reader.Position);
        Assert.Equal(0, reader.LostBytes);
        Assert.Null(wrong);

        // The dead lease is taken over at once; the new writer continues at the published position.
        Assert.True(ring.TryClaimWriter(out var writer));
        using (writer)
        {
            Assert.Equal(published, writer.Position);
            var resumed = Task.Run(ReadUntilFailureOrEnd);
            var chunk = new byte[7777];
            while (writer.Position < published + (1 << 20))
            {
                RingContent.Fill(chunk, writer.Position);
                await writer.WriteAsync(chunk);
            }

            writer.Complete();
            Assert.Null(await resumed);
            Assert.Equal(writer.Position, reader.Position);
        }

        Assert.True(reader.IsCompleted);
        Assert.Equal(0, reader.LostBytes);
        Assert.Null(wrong);
    }
}
