using System.Reflection;

namespace SharedLog.Tests.Infrastructure;

/// <summary>Marks a static method <c>int Name(string[] args)</c> as a child-process role.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChildRoleAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>
/// Entry point when the test assembly runs as a child process: <c>dotnet exec SharedLog.Tests.dll ROLE ARGS…</c>.
/// Roles are static methods with <see cref="ChildRoleAttribute"/> anywhere in this assembly.
/// </summary>
public static class ChildMain
{
    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: SharedLog.Tests ROLE ARGS...");
            return 2;
        }

        foreach (var type in typeof(ChildMain).Assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            {
                if (method.GetCustomAttribute<ChildRoleAttribute>() is { } role && role.Name == args[0])
                {
                    try
                    {
                        return (int)method.Invoke(null, [args[1..]])!;
                    }
                    catch (TargetInvocationException e) when (e.InnerException is not null)
                    {
                        Console.Out.Flush();
                        Console.Error.WriteLine($"child role {args[0]} failed: {e.InnerException}");
                        return 3;
                    }
                }
            }
        }

        Console.Error.WriteLine($"unknown role '{args[0]}'");
        return 2;
    }
}
