using System.Diagnostics;

namespace SharedLog.Tool;

/// <summary>
/// The tool's workarounds for what the library's public API does not offer yet, kept in one place. Each member
/// names the API that would replace it; once the core has it, the member goes and its callers use the API.
/// </summary>
internal static class ApiGaps
{
    /// <summary>
    /// Where files live when no directory is given. Wanted: a public <c>SharedLogFiles.DefaultDirectory</c>, so the
    /// tool cannot drift from the library's rule (today a copy of it).
    /// </summary>
    public static string DefaultDirectory
        => OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

    /// <summary>
    /// Opens a file as whichever structure it is: tries the log and falls back to the ring when the log rejects the
    /// file's format. Wanted: <c>SharedLogFiles.Probe(name, directory)</c> returning the kind (or a
    /// <c>SharedLogFileInfo</c> with kind and length) without mapping the file twice.
    /// </summary>
    /// <exception cref="SharedLogException">The file does not exist, cannot be opened, or is neither kind.</exception>
    public static SharedLogFile Open(string name, string? directory)
    {
        try
        {
            return new SharedLogFile(SegmentedLog.Open(name, directory));
        }
        catch (SharedLogFormatException asLog)
        {
            try
            {
                return new SharedLogFile(ByteRing.Open(name, directory));
            }
            catch (SharedLogFormatException asRing)
            {
                throw new SharedLogFormatException($"{asLog.Message} As a byte ring: {asRing.Message}", asRing);
            }
        }
    }

    /// <summary>
    /// Whether the ring's writer lives. The log has <see cref="LogStatus.WriterAlive"/> (which also catches a reused
    /// pid through the lease's start time); the ring has only <see cref="ByteRing.WriterProcessId"/>, so this asks
    /// whether the pid exists. Wanted: <c>ByteRing.GetStatus()</c> returning a <c>RingStatus(WriterPosition,
    /// OldestPosition, IsCompleted, WriterProcessId, WriterAlive, Readers: IReadOnlyList&lt;ReaderStatus&gt;)</c>.
    /// </summary>
    public static bool IsProcessAlive(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }

        if (OperatingSystem.IsLinux())
        {
            return Directory.Exists($"/proc/{pid}");
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// The retained segments, from the status alone: generations oldest..head and the slot each occupies
    /// (generation mod slot count). Their first sequences and record counts are not public without a snapshot,
    /// which would take a reader slot and pin segments. Wanted: <c>LogStatus.Segments</c> as
    /// <c>IReadOnlyList&lt;SegmentStatus(long Generation, int Slot, long FirstSequence, int Count, int CommittedBytes,
    /// bool IsHead)&gt;</c>.
    /// </summary>
    public static IReadOnlyList<SegmentReport> Segments(LogStatus status, int slotCount)
    {
        var segments = new List<SegmentReport>();
        for (long generation = status.OldestGeneration; generation <= status.HeadGeneration && segments.Count <= slotCount; generation++)
        {
            segments.Add(new SegmentReport(generation, (int)(generation % slotCount), generation == status.HeadGeneration));
        }

        return segments;
    }

    /// <summary>
    /// A reader's next sequence (log) or position (ring) is not in <see cref="ReaderStatus"/>; only the generation
    /// (log) or position (ring) it pins is. Wanted: <c>ReaderStatus.NextPosition</c> (next sequence for a log reader,
    /// byte position for a ring reader; null for a snapshot). Until then: null.
    /// </summary>
    public static long? NextPosition(ReaderStatus reader)
    {
        _ = reader;
        return null;
    }

    /// <summary>
    /// A tailing reader that starts at <paramref name="fromSequence"/>: today a reader from the oldest record that
    /// skips what comes before. Wanted: <c>SegmentedLog.CreateReader(long fromSequence, IdleStrategy? idle = null)</c>
    /// (in the design's second wave), which seeks by generation instead of reading.
    /// </summary>
    /// <returns>The reader, positioned at <paramref name="fromSequence"/> or at the oldest retained record after it.</returns>
    public static LogReader CreateReaderFrom(SegmentedLog log, long fromSequence)
    {
        var reader = log.CreateReader(ReadFrom.Oldest);
        while (reader.NextSequence < fromSequence && reader.TryRead(out _))
        {
        }

        return reader;
    }
}
