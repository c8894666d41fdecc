using SharedLog.Tests.Infrastructure;

namespace SharedLog.Tests.Log;

/// <summary>A reader or snapshot whose constructor throws gives back its reader slot, heartbeat and mapping reference.</summary>
public sealed class ReaderSlotLeakTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Failed_reader_and_snapshot_constructors_leave_no_phantom_readers()
    {
        var options = new SegmentedLogOptions { SegmentCapacity = 4, RetainedCapacity = 64, MaxReaders = 2, Directory = _dir.Path };
        var (writer, log) = SegmentedLog.CreateClaimed("leak", options);
        using (writer)
        using (log)
        {
            for (int i = 0; i < 10; i++)
            {
                writer.Append([(byte)i]);
            }

            // The oldest segment's slot claims another generation: readers starting there report corruption.
            using (var fields = new FileFields(log))
            {
                fields.Write(fields.SlotOffset(0) + SharedLog.Layout.SegmentLayout.GenerationOffset, 99L);
            }

            for (int attempt = 0; attempt < 3 * options.MaxReaders; attempt++)
            {
                Assert.Throws<SharedLogFormatException>(() => log.CreateReader(ReadFrom.Oldest));
                Assert.Throws<SharedLogFormatException>(() => log.Snapshot());
            }

            Assert.Empty(log.GetStatus().Readers);

            // The table still has room: a reader at the head works.
            using var reader = log.CreateReader(ReadFrom.Latest);
            Assert.Single(log.GetStatus().Readers);
        }
    }
}
