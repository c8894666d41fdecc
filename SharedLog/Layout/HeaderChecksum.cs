using SharedLog.Memory;

namespace SharedLog.Layout;

/// <summary>FNV-1a over the identity line of the header, and the identity checks every open makes first.</summary>
internal static unsafe class HeaderChecksum
{
    public static ulong Compute(byte* header)
    {
        ulong hash = 14695981039346656037UL;
        for (int i = 0; i < FileLayout.ChecksummedLength; i++)
        {
            hash = (hash ^ header[i]) * 1099511628211UL;
        }

        return hash;
    }

    /// <summary>Validates magic, version, kind and checksum; throws <see cref="SharedLogFormatException"/> with what is wrong.</summary>
    public static void ValidateIdentity(MappedRegion region, int expectedKind, string expectedName)
    {
        byte* b = region.Base;
        string path = region.FilePath;
        if (*(ulong*)(b + FileLayout.MagicOffset) != FileLayout.Magic)
        {
            throw new SharedLogFormatException($"'{path}' is not a SharedLog file (wrong magic number). Check the name, or delete the file and create it again.");
        }

        int version = *(int*)(b + FileLayout.VersionOffset);
        if (version != FileLayout.CurrentVersion)
        {
            throw new SharedLogFormatException(
                $"'{path}' has layout version {version}; this library reads version {FileLayout.CurrentVersion}. Use the same SharedLog version in every process, or recreate the file.");
        }

        if (*(ulong*)(b + FileLayout.ChecksumOffset) != Compute(b))
        {
            throw new SharedLogFormatException($"'{path}' has a corrupt header (checksum mismatch). Delete it and create it again.");
        }

        int kind = *(int*)(b + FileLayout.KindOffset);
        if (kind != expectedKind)
        {
            string actual = kind switch
            {
                FileLayout.KindLog => "a segmented log",
                FileLayout.KindRing => "a byte ring",
                _ => $"of unknown kind {kind}",
            };
            throw new SharedLogFormatException($"'{path}' is {actual}, not a {expectedName}. Open it with the matching type.");
        }
    }
}
