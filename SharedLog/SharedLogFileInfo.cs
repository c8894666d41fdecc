namespace SharedLog;

/// <summary>A SharedLog file found by <see cref="SharedLogFiles.Probe"/>: where it is, what it holds and how long it is.</summary>
/// <param name="Path">The file's path.</param>
/// <param name="Kind">Whether it is a log or a ring: open it with <see cref="SegmentedLog.Open(string, string?)"/> or <see cref="ByteRing.Open(string, string?)"/>.</param>
/// <param name="Length">The file's length in bytes.</param>
public sealed record SharedLogFileInfo(string Path, SharedLogFileKind Kind, long Length);
