using System.Runtime.CompilerServices;
using SharedLog.Platform;

namespace SharedLog.Files;

/// <summary>
/// What a waiting reader checks besides its data, off the hot path: whether the writer died without completing the
/// stream, and whether the file under the reader's name is still the one it maps. Shared by the log's and the ring's
/// readers, so both end their waits the same way.
/// </summary>
/// <remarks>
/// Called only by waiters that found nothing to read. The writer's liveness costs a /proc read, so it is checked
/// 20 ms into a wait and then every 100 ms (a pid gone is noticed within that); the file's identity costs an open and
/// a read, so it is checked every second.
/// </remarks>
internal struct StreamWatch
{
    private const long FirstWriterCheckMs = 20;
    private const long WriterCheckPeriodMs = 100;
    private const long FileCheckPeriodMs = 1000;
    private long _nextWriterCheck;
    private long _nextFileCheck;

    /// <summary>Starts the timers of one wait.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Begin()
    {
        long now = ProcessIdentity.NowMs;
        _nextWriterCheck = now + FirstWriterCheckMs;
        if (_nextFileCheck == 0)
        {
            _nextFileCheck = now + FileCheckPeriodMs;
        }
    }

    /// <summary>
    /// The reason the stream ended for this reader, when a check is due and finds one; null otherwise. The caller
    /// re-checks its data before throwing it, so a record published just before the writer died is read first.
    /// </summary>
    /// <param name="file">The reader's file.</param>
    /// <param name="unit">What the reader's position counts, for the message ("sequence", "position").</param>
    /// <param name="position">Where the reader is.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public SharedLogException? FindEnd(SharedFile file, string unit, long position)
    {
        long now = ProcessIdentity.NowMs;
        if (now >= _nextWriterCheck)
        {
            _nextWriterCheck = now + WriterCheckPeriodMs;
            int pid = file.DeadWriterPid();
            if (pid != 0)
            {
                return new WriterDiedException(
                    $"The writer of '{file.FilePath}' (pid {pid}) died without completing the stream; this reader is at {unit} {position} " +
                    "and has read everything the writer published. Another process can claim the writer and continue, or stop reading.")
                {
                    WriterProcessId = pid,
                };
            }
        }

        if (now >= _nextFileCheck)
        {
            _nextFileCheck = now + FileCheckPeriodMs;
            if (!FileStore.IsSameFile(file.FilePath, file.Header.FileId, out bool deleted))
            {
                return new FileReplacedException(deleted
                    ? $"'{file.FilePath}' was deleted while this reader had it open (it is at {unit} {position}); nothing more will be written to it."
                    : $"'{file.FilePath}' was replaced by a new file while this reader had it open (it is at {unit} {position}). Open the name again to read the new file.")
                {
                    WasDeleted = deleted,
                };
            }
        }

        return null;
    }
}
