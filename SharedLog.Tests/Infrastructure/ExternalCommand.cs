using System.Diagnostics;

namespace SharedLog.Tests.Infrastructure;

/// <summary>Runs a system command (mount, umount, mkfifo) for a test's setup.</summary>
public static class ExternalCommand
{
    /// <summary>True when <paramref name="command"/> exists and exits 0; its stderr is read and dropped.</summary>
    public static bool Succeeds(string command, params string[] arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(command, arguments) { UseShellExecute = false, RedirectStandardError = true });
            if (process is null)
            {
                return false;
            }

            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
