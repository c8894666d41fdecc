namespace SharedLog.Nats;

/// <summary>JetStream API error codes (<c>err_code</c>) the bridges act on.</summary>
internal static class JetStreamErrors
{
    public const int ConsumerNotFound = 10014;
    public const int NoMessageFound = 10037;
    public const int StreamNotFound = 10059;
}
