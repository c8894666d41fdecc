using System.CommandLine;
using System.Globalization;

namespace SharedLog.Nats;

/// <summary>
/// The <c>bridge</c> command line: <c>bridge out</c> (log → JetStream) and <c>bridge in</c> (JetStream → log), for
/// any program that hosts it. Each run prints <c>resumed: …</c> once, then a <c>status: …</c> line at every status
/// interval and a last one when it stops (SIGINT or SIGTERM).
/// </summary>
public static class BridgeCommands
{
    /// <summary>The exit code for arguments that do not parse.</summary>
    public const int UsageExitCode = 2;

    /// <summary>The <c>bridge</c> command with its <c>out</c> and <c>in</c> subcommands.</summary>
    public static Command Create()
    {
        var command = new Command("bridge", "Bridge a log to a NATS JetStream stream (out) or a stream into a log (in).");
        command.Add(CreateOut());
        command.Add(CreateIn());
        return command;
    }

    /// <summary>Parses <paramref name="args"/> against <paramref name="root"/> and runs the command; bad arguments print the error and the usage to stderr and return <see cref="UsageExitCode"/>.</summary>
    public static async Task<int> InvokeAsync(Command root, string[] args)
    {
        ArgumentNullException.ThrowIfNull(root);
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            await result.InvokeAsync(new InvocationConfiguration { Output = Console.Error, Error = Console.Error }).ConfigureAwait(false);
            return UsageExitCode;
        }

        return await result.InvokeAsync().ConfigureAwait(false);
    }

    /// <summary>The <c>out</c> subcommand: tail a log and publish each record to JetStream.</summary>
    public static Command CreateOut()
    {
        var log = new Option<string>("--log") { Description = "The log's name.", Required = true };
        var dir = new Option<string?>("--dir") { Description = "The log's directory (default: the library's)." };
        var url = UrlOption();
        var stream = new Option<string?>("--stream") { Description = "The JetStream stream (default SHAREDLOG_<LOG>)." };
        var subject = new Option<string>("--subject")
        {
            Description = "Subject template; {name} = the log's name, {type} = the record's type id.",
            DefaultValueFactory = _ => SubjectTemplate.Default,
        };
        var from = new Option<string>("--from")
        {
            Description = "Where to start when the stream holds nothing of this log yet.",
            DefaultValueFactory = _ => "oldest",
        }.AcceptOnlyFromAmong("oldest", "latest");
        var maxInFlight = new Option<int>("--max-in-flight")
        {
            Description = "Publishes awaiting acknowledgement at most.",
            DefaultValueFactory = _ => 4096,
        };
        var noCreate = new Option<bool>("--no-create-stream") { Description = "Do not create a missing stream; wait for it instead." };
        var duplicateWindow = new Option<double>("--duplicate-window")
        {
            Description = "Seconds; the duplicate window of a stream the bridge creates.",
            DefaultValueFactory = _ => 120,
        };
        var interval = StatusIntervalOption();
        var command = new Command("out", "Tail a log and publish each record to a JetStream stream, exactly once, resuming after a restart.")
        {
            log, dir, url, stream, subject, from, maxInFlight, noCreate, duplicateWindow, interval,
        };
        maxInFlight.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
            {
                r.AddError("--max-in-flight must be at least 1.");
            }
        });
        subject.Validators.Add(r =>
        {
            try
            {
                _ = new SubjectTemplate(r.GetValueOrDefault<string>() ?? "", "log");
            }
            catch (ArgumentException e)
            {
                r.AddError(e.Message);
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var bridge = new BridgeOut(new BridgeOutOptions
            {
                LogName = parse.GetRequiredValue(log),
                LogDirectory = parse.GetValue(dir),
                Url = parse.GetRequiredValue(url),
                Stream = parse.GetValue(stream),
                SubjectTemplate = parse.GetRequiredValue(subject),
                StartFrom = parse.GetValue(from) == "latest" ? ReadFrom.Latest : ReadFrom.Oldest,
                MaxInFlight = parse.GetValue(maxInFlight),
                CreateStream = !parse.GetValue(noCreate),
                DuplicateWindow = TimeSpan.FromSeconds(parse.GetValue(duplicateWindow)),
            });
            bridge.Resumed = sequence => Console.WriteLine($"resumed: {sequence.ToString(CultureInfo.InvariantCulture)}");
            return await RunAsync(bridge.RunAsync, bridge.GetStatus, parse.GetValue(interval), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>The <c>in</c> subcommand: replay a stream into a log through a durable consumer.</summary>
    public static Command CreateIn()
    {
        var stream = new Option<string>("--stream") { Description = "The JetStream stream to replay.", Required = true };
        var log = new Option<string>("--log") { Description = "The log to append to (created when missing).", Required = true };
        var dir = new Option<string?>("--dir") { Description = "The log's directory (default: the library's)." };
        var url = UrlOption();
        var consumer = new Option<string?>("--consumer") { Description = "The durable consumer's name (default sharedlog-in-<LOG>)." };
        var filter = new Option<string?>("--filter") { Description = "Only subjects matching this filter." };
        var startSeq = new Option<ulong?>("--start-seq") { Description = "First stream sequence, when neither the log nor the consumer has a position." };
        var startTime = new Option<DateTimeOffset?>("--start-time") { Description = "Start time (ISO 8601), when neither the log nor the consumer has a position." };
        var batch = new Option<int>("--batch") { Description = "Messages appended and acknowledged together.", DefaultValueFactory = _ => 256 };
        var segmentCapacity = new Option<int>("--segment-capacity") { Description = "Records per segment of a log the bridge creates.", DefaultValueFactory = _ => 1024 };
        var retained = new Option<long>("--retained") { Description = "Records retained by a log the bridge creates.", DefaultValueFactory = _ => 65536 };
        var policy = new Option<string>("--policy")
        {
            Description = "Slow-reader policy of a log the bridge creates.",
            DefaultValueFactory = _ => "block",
        }.AcceptOnlyFromAmong("block", "evict");
        var interval = StatusIntervalOption();
        var command = new Command("in", "Replay a JetStream stream into a log; each message is acknowledged once appended, never lost or duplicated across restarts.")
        {
            stream, log, dir, url, consumer, filter, startSeq, startTime, batch, segmentCapacity, retained, policy, interval,
        };
        batch.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
            {
                r.AddError("--batch must be at least 1.");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var bridge = new BridgeIn(new BridgeInOptions
            {
                Stream = parse.GetRequiredValue(stream),
                LogName = parse.GetRequiredValue(log),
                Url = parse.GetRequiredValue(url),
                Consumer = parse.GetValue(consumer),
                FilterSubject = parse.GetValue(filter),
                StartSequence = parse.GetValue(startSeq),
                StartTime = parse.GetValue(startTime),
                BatchSize = parse.GetValue(batch),
                LogOptions = new SegmentedLogOptions
                {
                    Directory = parse.GetValue(dir),
                    SegmentCapacity = parse.GetValue(segmentCapacity),
                    RetainedCapacity = parse.GetValue(retained),
                    SlowReaderPolicy = parse.GetValue(policy) == "evict" ? SlowReaderPolicy.Evict : SlowReaderPolicy.Block,
                },
            });
            bridge.Resumed = sequence => Console.WriteLine($"resumed: {sequence.ToString(CultureInfo.InvariantCulture)}");
            return await RunAsync(bridge.RunAsync, bridge.GetStatus, parse.GetValue(interval), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static Option<string> UrlOption() => new("--url")
    {
        Description = "The NATS server.",
        DefaultValueFactory = _ => "nats://127.0.0.1:4222",
    };

    private static Option<double> StatusIntervalOption() => new("--status-interval")
    {
        Description = "Seconds between status lines on stdout.",
        DefaultValueFactory = _ => 1,
    };

    private static async Task<int> RunAsync(Func<CancellationToken, Task> run, Func<BridgeStatus> status, double intervalSeconds, CancellationToken cancellationToken)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(0.05, intervalSeconds));
        var bridge = run(cancellationToken);
        while (!bridge.IsCompleted)
        {
            await Task.WhenAny(bridge, Task.Delay(interval, CancellationToken.None)).ConfigureAwait(false);
            Console.WriteLine($"status: {status()}");
        }

        try
        {
            await bridge.ConfigureAwait(false);
            return 0;
        }
        catch (SharedLogException e)
        {
            await Console.Error.WriteLineAsync($"bridge: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
