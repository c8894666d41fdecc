using System.Text.RegularExpressions;

namespace SharedLog.Tests.Architecture;

/// <summary>
/// The library's folders form layers: OS calls at the bottom importing nothing of ours, then the mapped region and
/// atomics, waiting, leases and the reader table, the shared file, and the log and the ring, which never
/// import each other, with the metrics (Diagnostics) over both. A change that breaks the layering fails here.
/// </summary>
public sealed partial class LayeringTests
{
    /// <summary>What each folder may import (besides the root namespace: options, exceptions, enums).</summary>
    private static readonly Dictionary<string, string[]> s_allowed = new(StringComparer.Ordinal)
    {
        ["Platform"] = [],
        ["Layout"] = [],
        ["Memory"] = ["Platform"],
        ["Waiting"] = ["Memory", "Platform"],
        ["Leases"] = ["Layout", "Memory", "Platform", "Waiting"],
        ["Files"] = ["Layout", "Leases", "Memory", "Platform", "Waiting"],
        ["Log"] = ["Files", "Layout", "Leases", "Memory", "Platform", "Waiting"],
        ["Ring"] = ["Files", "Layout", "Leases", "Memory", "Platform", "Waiting"],
        ["Diagnostics"] = ["Files", "Layout", "Leases", "Log", "Memory", "Platform", "Ring", "Waiting"],
    };

    [Fact]
    public void Every_folder_imports_only_the_layers_below_it()
    {
        string library = Path.Combine(FindRepositoryRoot(), "SharedLog");
        var folders = Directory.GetDirectories(library)
            .Select(Path.GetFileName)
            .Where(name => name is not ("bin" or "obj" or "Properties"))
            .ToList();
        Assert.Equal(s_allowed.Keys.Order(StringComparer.Ordinal), folders.Order(StringComparer.Ordinal)!);

        var violations = new List<string>();
        foreach (string folder in s_allowed.Keys)
        {
            foreach (string file in Directory.EnumerateFiles(Path.Combine(library, folder), "*.cs"))
            {
                foreach (Match match in Import().Matches(File.ReadAllText(file)))
                {
                    string imported = match.Groups[1].Value;
                    if (s_allowed.ContainsKey(imported) && imported != folder && !s_allowed[folder].Contains(imported))
                    {
                        violations.Add($"{folder}/{Path.GetFileName(file)} imports {imported}");
                    }
                }
            }
        }

        Assert.Empty(violations);
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SharedLog.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (SharedLog.sln) was not found above the test assembly.");
    }

    /// <summary>A using directive or a fully qualified name of one of our namespaces.</summary>
    [GeneratedRegex(@"(?:^using|global::|[^\w.])SharedLog\.([A-Z]\w*)(?=[.;\s])", RegexOptions.Multiline)]
    private static partial Regex Import();
}
