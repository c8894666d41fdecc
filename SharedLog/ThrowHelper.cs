using System.Diagnostics.CodeAnalysis;

namespace SharedLog;

/// <summary>Throws out of line, so the hot paths that call it stay small enough to inline.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowCorrupt(string path, string what)
        => throw new SharedLogFormatException($"'{path}' is corrupt: {what}. Delete it and create it again.");

    [DoesNotReturn]
    public static void ThrowDisposed(string type) => throw new ObjectDisposedException(type);

    [DoesNotReturn]
    public static void ThrowArgumentOutOfRange(string name, string message) => throw new ArgumentOutOfRangeException(name, message);

    [DoesNotReturn]
    public static void ThrowArgument(string name, string message) => throw new ArgumentException(message, name);

    [DoesNotReturn]
    public static void ThrowInvalidOperation(string message) => throw new InvalidOperationException(message);
}
