using System.CommandLine;
using SharedLog.Nats;

// The bridge as a program of its own: SharedLog.Nats.Bridge out|in [options]. The commands live in SharedLog.Nats
// (BridgeCommands) so that other tools host the same command line.
var root = new RootCommand("Bridge SharedLog logs to NATS JetStream and back.")
{
    BridgeCommands.CreateOut(),
    BridgeCommands.CreateIn(),
};
return await BridgeCommands.InvokeAsync(root, args);
