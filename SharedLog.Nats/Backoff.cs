namespace SharedLog.Nats;

/// <summary>Exponential backoff with jitter between recovery attempts: min, 2 min, 4 min, ... up to max.</summary>
internal sealed class Backoff
{
    private readonly TimeSpan _max;
    private TimeSpan _next;

    public Backoff(TimeSpan min, TimeSpan max)
    {
        _max = max;
        _next = min;
    }

    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        double jitter = 0.75 + (Random.Shared.NextDouble() / 2);
        await Task.Delay(_next * jitter, cancellationToken).ConfigureAwait(false);
        _next = TimeSpan.FromTicks(Math.Min(_max.Ticks, _next.Ticks * 2));
    }
}
