namespace SharedLog.Benchmarks.Suite;

/// <summary>
/// The words a benchmark's processes coordinate through, beside (not inside) the transport under test, each on its
/// own 128-byte line: where the measured window starts and ends, and whether each follower process has finished
/// its warm-up. The lead process writes the window bounds; each follower writes its own warm-up word.
/// </summary>
/// <remarks><code>
///   offset    word                     writer     ordering
///   0         StartPosition            lead       release before the window's first message is written
///   128       EndPosition              lead       release after the window's last message is written
///   256+128s  bytes consumed of side s reader     release after it checked them (paired bulk runs, s = 0, 1)
///   1024+128i warm-up status of i      follower i release (0 warming, 1 finished, 2 timed out)
/// </code></remarks>
public sealed class Control : IDisposable
{
    /// <summary>Not yet published.</summary>
    public const long Unset = long.MaxValue;

    /// <summary>The most follower processes one benchmark starts.</summary>
    public const int MaxFollowers = 8;

    private const int StartOffset = 0;
    private const int EndOffset = 128;
    private const int ConsumedOffset = 256;
    private const int WarmOffset = 1024;
    private const int Length = WarmOffset + MaxFollowers * 128;

    private readonly SharedMapping _map;

    private Control(SharedMapping map) => _map = map;

    /// <summary>Creates the control file (by the lead process).</summary>
    public static Control Create(string path)
    {
        var control = new Control(SharedMapping.Create(path, Length));
        Volatile.Write(ref control._map.Int64(StartOffset), Unset);
        Volatile.Write(ref control._map.Int64(EndOffset), Unset);
        return control;
    }

    /// <summary>Opens the control file (by a follower process).</summary>
    public static Control Open(string path) => new(SharedMapping.Open(path));

    /// <summary>Position (message sequence or byte position) of the measured window's first message, or <see cref="Unset"/>.</summary>
    public long StartPosition
    {
        get => Volatile.Read(ref _map.Int64(StartOffset));
        set => Volatile.Write(ref _map.Int64(StartOffset), value);
    }

    /// <summary>Position just past the measured window's last message, or <see cref="Unset"/>.</summary>
    public long EndPosition
    {
        get => Volatile.Read(ref _map.Int64(EndOffset));
        set => Volatile.Write(ref _map.Int64(EndOffset), value);
    }

    /// <summary>Bytes the reader of a paired bulk run has checked on transport <paramref name="side"/> (0 or 1).</summary>
    public long Consumed(int side) => Volatile.Read(ref _map.Int64(ConsumedOffset + 128L * side));

    /// <summary>Publishes the bytes checked on transport <paramref name="side"/>.</summary>
    public void SetConsumed(int side, long bytes) => Volatile.Write(ref _map.Int64(ConsumedOffset + 128L * side), bytes);

    /// <summary>Warm-up status of follower <paramref name="index"/>: 0 warming up, 1 finished, 2 timed out.</summary>
    public long WarmStatus(int index) => Volatile.Read(ref _map.Int64(WarmOffset + 128L * index));

    /// <summary>Publishes follower <paramref name="index"/>'s warm-up status.</summary>
    public void SetWarmStatus(int index, long status) => Volatile.Write(ref _map.Int64(WarmOffset + 128L * index), status);

    /// <summary>Whether followers 0 … <paramref name="count"/>-1 have all ended their warm-up.</summary>
    public bool AllWarm(int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (WarmStatus(i) == 0)
            {
                return false;
            }
        }

        return true;
    }

    public void Dispose() => _map.Dispose();
}
