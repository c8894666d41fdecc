using System.Runtime.InteropServices;

namespace SharedLog.Demo.Reader;

/// <summary>
/// A market-data tick as it travels through the log: an unmanaged struct, appended with
/// <see cref="LogWriter.Append{T}(in T, int)"/> and read in place with <see cref="LogRecord.Read{T}"/>.
/// </summary>
/// <param name="Timestamp">When the writer published it (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>, a system-wide clock).</param>
/// <param name="Price">Last traded price.</param>
/// <param name="SymbolId">Instrument, 0 to <see cref="SymbolCount"/> - 1.</param>
/// <param name="Size">Traded quantity.</param>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct Tick(long Timestamp, double Price, int SymbolId, int Size)
{
    /// <summary>Record type id of a tick.</summary>
    public const int TypeId = 1;

    /// <summary>Record type id of the empty record that ends a session.</summary>
    public const int EndOfSessionTypeId = 2;

    /// <summary>How many instruments the demo publishes.</summary>
    public const int SymbolCount = 16;
}
