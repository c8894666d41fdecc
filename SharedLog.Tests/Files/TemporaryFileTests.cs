using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Files;

/// <summary>Creating or deleting a file removes only its own stale temporaries, never another file's.</summary>
public sealed class TemporaryFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Temporaries_of_a_file_whose_name_extends_this_one_are_left_alone()
    {
        // A creator of "feed.123" (alive: this process) is halfway through; "feed" must not take its temporary for
        // one of its own made by (dead) pid 123.
        string other = _dir.File($".feed.123.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(other, [1]);

        using (SegmentedLog.Create("feed", new SegmentedLogOptions { Directory = _dir.Path }))
        {
        }

        Assert.True(SegmentedLog.Delete("feed", _dir.Path));
        using (ByteRing.Create("feed", new ByteRingOptions { Capacity = 4096, Directory = _dir.Path }))
        {
        }

        Assert.True(ByteRing.Delete("feed", _dir.Path));
        Assert.True(File.Exists(other));
    }

    [Fact]
    public void A_dead_creators_temporary_is_removed_by_the_next_create()
    {
        string stale = _dir.File($".feed.{FileFields.DeadPid}.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(stale, [1]);
        using (SegmentedLog.Create("feed", new SegmentedLogOptions { Directory = _dir.Path }))
        {
        }

        Assert.False(File.Exists(stale));
    }
}
