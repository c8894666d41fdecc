using System.Diagnostics;

namespace SharedLog.Tool.Tests;

/// <summary>
/// The library as users get it: pack it into a local folder, build a fresh console project that references the
/// package from there (the normal feed supplies its dependencies), and append and read a record across two
/// processes with it.
/// </summary>
public sealed class PackageConsumerTests : IDisposable
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private const string ConsumerProgram =
        """
        using System.Diagnostics;
        using System.Text;
        using SharedLog;

        string directory = args[1];
        if (args[0] == "read")
        {
            using var shared = SegmentedLog.Open("handoff", directory);
            using var snapshot = shared.Snapshot();
            snapshot.TryGet(0, out LogRecord record);
            Console.WriteLine($"child {Environment.ProcessId} read {record.Sequence} type {record.TypeId}: {Encoding.UTF8.GetString(record.Payload)}");
            return 0;
        }

        var (writer, log) = SegmentedLog.CreateClaimed("handoff", new SegmentedLogOptions { Directory = directory });
        using (log)
        using (writer)
        {
            writer.Append("hello from the package"u8, typeId: 42);
            var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            {
                info.ArgumentList.Add("exec");
                info.ArgumentList.Add(typeof(SegmentedLog).Assembly.Location.Replace("SharedLog.dll", "Consumer.dll"));
            }

            info.ArgumentList.Add("read");
            info.ArgumentList.Add(directory);
            using var child = Process.Start(info)!;
            string output = child.StandardOutput.ReadToEnd();
            child.WaitForExit();
            Console.Write(output);
            Console.WriteLine($"writer {Environment.ProcessId}, child exit {child.ExitCode}");
            return child.ExitCode;
        }
        """;

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
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), ConsumerProgram);
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

        // 3. Run it: the writer appends, a second process reads the record back.
        using var run = ToolProcess.StartDll(Path.Combine(consumer, "bin", "Release", "net10.0", "Consumer.dll"), ["write", data]);
        Assert.True(run.WaitForExit(TimeSpan.FromMinutes(1)), "the consumer did not finish");
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        string[] lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^child (\d+) read 0 type 42: hello from the package$", lines[0]);
        Assert.Matches(@"^writer (\d+), child exit 0$", lines[1]);
        Assert.NotEqual(lines[0].Split(' ')[1], lines[1].Split(' ')[1].TrimEnd(','));
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
