using System.Runtime.InteropServices;

namespace SharedLog.Platform;

/// <summary>
/// The machine's online CPUs, whatever this process's affinity: a reader pinned to one CPU still shares the machine
/// with a writer and other readers pinned elsewhere.
/// </summary>
/// <remarks>
/// <see cref="Environment.ProcessorCount"/> counts only the CPUs this process may run on (its affinity and its
/// container's CPU quota), so a reader started under <c>taskset -c 1</c> would see one core and count itself as
/// crowded there on its own. On Linux this asks <c>sysconf(_SC_NPROCESSORS_ONLN)</c>; elsewhere, or if that fails, it
/// falls back to <see cref="Environment.ProcessorCount"/>.
/// </remarks>
internal static partial class MachineCores
{
    /// <summary>sysconf's name for the number of online processors on Linux (glibc and musl).</summary>
    private const int ScNProcessorsOnline = 84;

    /// <summary>The online CPUs, read once.</summary>
    public static int Online { get; } = Read();

    private static int Read()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                long online = SysConf(ScNProcessorsOnline);
                if (online > 0)
                {
                    return (int)Math.Min(online, int.MaxValue);
                }
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // No usable libc: the runtime's count below.
            }
        }

        return Environment.ProcessorCount;
    }

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long SysConf(int name);
}
