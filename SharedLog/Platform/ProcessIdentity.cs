using System.Diagnostics;
using System.Globalization;

namespace SharedLog.Platform;

/// <summary>What the OS can tell about the owner of a lease or reader slot.</summary>
internal enum Liveness
{
    /// <summary>The process exists and, where it can be checked, started when the owner recorded.</summary>
    Alive,

    /// <summary>No such process, a zombie, or its pid was reused by a process with another start time.</summary>
    Dead,

    /// <summary>The OS cannot tell (another pid namespace): fall back to the heartbeat.</summary>
    Unknown,
}

/// <summary>
/// This process's identity (pid, start time, pid namespace) and liveness checks of others. On Linux the start
/// time is field 22 of <c>/proc/PID/stat</c> (clock ticks since boot), which tells a reused pid from its first
/// owner; the pid namespace inode tells whether a recorded pid means anything here. A zombie (killed, not yet reaped
/// by its parent) counts as dead: its mappings are gone.
/// </summary>
internal static class ProcessIdentity
{
    private static readonly long s_startTime = ReadStartTime(Environment.ProcessId, out _) ?? 0;
    private static readonly long s_pidNamespace = ReadPidNamespace();
    private static readonly bool s_hasProc = OperatingSystem.IsLinux() && Directory.Exists("/proc/self");

    public static int Pid => Environment.ProcessId;

    public static long StartTime => s_startTime;

    public static long PidNamespace => s_pidNamespace;

    /// <summary>Monotonic milliseconds, the same clock in every process of the machine.</summary>
    public static long NowMs => Environment.TickCount64;

    /// <summary>Whether <paramref name="pid"/>, recorded with <paramref name="startTime"/> in <paramref name="pidNamespace"/>, still runs.</summary>
    /// <param name="pid">The recorded pid.</param>
    /// <param name="startTime">The recorded start time, or 0 when it is not known yet.</param>
    /// <param name="pidNamespace">The recorded pid namespace inode, or 0 when unknown.</param>
    public static Liveness Check(int pid, long startTime, long pidNamespace)
    {
        if (pid <= 0)
        {
            return Liveness.Dead;
        }

        if (pidNamespace != 0 && s_pidNamespace != 0 && pidNamespace != s_pidNamespace)
        {
            return Liveness.Unknown;
        }

        if (OperatingSystem.IsLinux())
        {
            if (!s_hasProc)
            {
                return Liveness.Unknown;
            }

            long? actual = ReadStartTime(pid, out char state);
            if (actual is null)
            {
                return Liveness.Dead;
            }

            if (startTime != 0 && actual.Value != startTime)
            {
                return Liveness.Dead;
            }

            // A SIGKILLed process stays a zombie until its parent reaps it, but its mappings are already gone: it can
            // neither write nor hold a pin. A zombie group leader whose other threads still run is alive, though.
            return state is 'Z' or 'X' or 'x' && ThreadCount(pid) <= 1 ? Liveness.Dead : Liveness.Alive;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.HasExited)
            {
                return Liveness.Dead;
            }

            return startTime != 0 && process.StartTime.ToUniversalTime().Ticks != startTime ? Liveness.Dead : Liveness.Alive;
        }
        catch (ArgumentException)
        {
            return Liveness.Dead;
        }
        catch (InvalidOperationException)
        {
            return Liveness.Dead;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return Liveness.Unknown;
        }
    }

    private static long? ReadStartTime(int pid, out char state)
    {
        state = 'R';
        if (!OperatingSystem.IsLinux())
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                return process.StartTime.ToUniversalTime().Ticks;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
                return null;
            }
        }

        if (FilePrefix.IsSupported)
        {
            return ReadStartTimeWithoutAllocating(pid, out state);
        }

        byte[] stat;
        try
        {
            stat = File.ReadAllBytes("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return ParseStat(stat, out state);
    }

    /// <summary>
    /// <see cref="ReadStartTime"/> through <see cref="FilePrefix"/>: path and contents on the stack. Waiting readers
    /// check their writer every 100 ms, so this runs on a steady-state path.
    /// </summary>
    private static long? ReadStartTimeWithoutAllocating(int pid, out char state)
    {
        state = 'R';
        Span<byte> path = stackalloc byte[32];
        "/proc/"u8.CopyTo(path);
        if (!pid.TryFormat(path[6..], out int digits, default, CultureInfo.InvariantCulture))
        {
            return null;
        }

        int length = 6 + digits;
        "/stat"u8.CopyTo(path[length..]);
        length += 5;

        Span<byte> text = stackalloc byte[1024];
        int read = FilePrefix.Read(path[..length], text);
        if (read <= 0)
        {
            return null;
        }

        return ParseStat(text[..read], out state);
    }

    /// <summary>
    /// The state (field 3) and start time (field 22) of a <c>/proc/PID/stat</c> line. The command name (field 2) is
    /// in parentheses and may contain spaces or ')'; the fields after the last ')' are separated by single spaces.
    /// </summary>
    private static long? ParseStat(ReadOnlySpan<byte> stat, out char state)
    {
        state = 'R';
        int close = stat.LastIndexOf((byte)')');
        if (close < 0)
        {
            return null;
        }

        var fields = stat[(close + 1)..].Trim((byte)' ');
        int field = 3;
        while (!fields.IsEmpty)
        {
            int end = fields.IndexOf((byte)' ');
            var value = end < 0 ? fields.TrimEnd((byte)'\n') : fields[..end];
            if (field == 3 && value.Length == 1)
            {
                state = (char)value[0];
            }
            else if (field == 22)
            {
                return System.Buffers.Text.Utf8Parser.TryParse(value, out long ticks, out int consumed) && consumed == value.Length && ticks >= 0
                    ? ticks
                    : null;
            }

            if (end < 0)
            {
                break;
            }

            fields = fields[(end + 1)..];
            field++;
        }

        return null;
    }

    /// <summary>The "Threads:" line of /proc/PID/status: 1 for a zombie whose whole thread group exited.</summary>
    private static int ThreadCount(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/status"))
            {
                if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    return int.TryParse(line.AsSpan(8).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int threads) ? threads : 1;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        // Gone while we looked (reaped): as dead as a zombie.
        return 0;
    }

    private static long ReadPidNamespace()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        try
        {
            // "pid:[4026531836]"
            string? target = new FileInfo("/proc/self/ns/pid").LinkTarget;
            if (target is null)
            {
                return 0;
            }

            int open = target.IndexOf('[');
            int close = target.IndexOf(']');
            return open >= 0 && close > open
                && long.TryParse(target.AsSpan(open + 1, close - open - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long inode)
                ? inode
                : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
