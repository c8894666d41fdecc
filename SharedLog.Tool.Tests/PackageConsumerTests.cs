using System.Diagnostics;

namespace SharedLog.Tool.Tests;

/// <summary>
/// The library as users get it: pack it into a local folder, build a fresh console project that references the
/// package from there (the normal feed supplies its dependencies) and whose program is the README's quick start,
/// exactly as written, and run it as a writer process and a reader process.
/// </summary>
public sealed class PackageConsumerTests : IDisposable
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private readonly TempDirectory _work = new(tmpfs: false);

    public void Dispose() => _work.Dispose();

    [Fact]
    public void The_packed_library_appends_and_reads_across_two_processes_in_a_fresh_project()
    {
        string version = $"0.0.0-consumer.{DateTime.UtcNow:yyyyMMddHHmmss}";
        string feed = Path.Combine(_work.Path, "feed");
        string consumer = Path.Combine(_work.Path, "consumer");
        string data = Path.Combine(_work.Path, "data");
        Directory.CreateDirectory(consumer);
        Directory.CreateDirectory(data);

        // 1. Pack the library as built for these tests (the same configuration, no rebuild).
        string project = Path.Combine(RepositoryRoot(), "SharedLog", "SharedLog.csproj");
        Dotnet(_work.Path, "pack", project, "-c", Configuration, "--no-build", "-o", feed, $"-p:Version={version}", "-nologo");
        Assert.True(File.Exists(Path.Combine(feed, $"SharedLog.{version}.nupkg")));
        Assert.True(File.Exists(Path.Combine(feed, $"SharedLog.{version}.snupkg")));

        // 2. A fresh console project outside the repository, restoring SharedLog from the local folder and the rest from
        //    the usual feed; packages land in a private folder, falling back to the machine's cache for dependencies.
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"),
            $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <AssemblyName>Consumer</AssemblyName>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="SharedLog" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), QuickStart());
        File.WriteAllText(Path.Combine(consumer, "nuget.config"),
            $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="{Path.Combine(_work.Path, "packages")}" />
              </config>
              <packageSources>
                <add key="local" value="{feed}" />
              </packageSources>
              <fallbackPackageFolders>
                <add key="machine" value="{MachinePackageCache()}" />
              </fallbackPackageFolders>
            </configuration>
            """);
        Dotnet(consumer, "build", "-c", "Release", "-nologo", "-v", "quiet");

        // 3. Run it: a reader started first waits for the file, the writer appends and completes, the reader ends.
        using var reader = ToolProcess.StartDll(Path.Combine(consumer, "bin", "Release", "net10.0", "Consumer.dll"), ["read", data]);
        using var writer = ToolProcess.StartDll(Path.Combine(consumer, "bin", "Release", "net10.0", "Consumer.dll"), ["write", data]);
        Assert.True(writer.WaitForExit(TimeSpan.FromMinutes(1)), "the writer did not finish");
        Assert.True(writer.ExitCode == 0, writer.Output + writer.Error);
        Assert.True(reader.WaitForExit(TimeSpan.FromMinutes(1)), "the reader did not end when the writer completed the log");
        Assert.True(reader.ExitCode == 0, reader.Output + reader.Error);
        string[] lines = reader.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("1: Tick { Instrument = 42, Price = 101.25, Size = 300 }", lines[0]);
        Assert.Equal("0: 5 bytes; 3 records retained", lines[1]);
    }

    /// <summary>The first C# block after the README's "Quick start" heading, as written.</summary>
    private static string QuickStart()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        int section = readme.IndexOf("## Quick start", StringComparison.Ordinal);
        int start = readme.IndexOf("```csharp\n", section, StringComparison.Ordinal) + "```csharp\n".Length;
        int end = readme.IndexOf("```", start, StringComparison.Ordinal);
        Assert.True(section >= 0 && start > section && end > start, "README.md has no C# block under '## Quick start'");
        return readme[start..end];
    }

    private static string MachinePackageCache()
        => Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } cache
            ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SharedLog.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("SharedLog.sln not found above the test assembly");
    }

    private static void Dotnet(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(ToolProcess.DotnetHost()) { WorkingDirectory = workingDirectory };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        var clock = Stopwatch.StartNew();
        using var process = ToolProcess.Start(info);
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(4)), $"dotnet {string.Join(' ', args)} did not finish");
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)} exited {process.ExitCode} after {clock.Elapsed.TotalSeconds:0.0} s:\n{process.Output}\n{process.Error}");
    }
}
