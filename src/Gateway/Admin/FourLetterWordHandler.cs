using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Text;
using OrleansCoord.Gateway.Hosting;
using OrleansCoord.Grains.Abstractions;

namespace OrleansCoord.Gateway.Admin;

/// <summary>Answers ZooKeeper's four-letter words in ZooKeeper's text formats, then the connection closes.</summary>
public static class FourLetterWordHandler
{
    /// <summary>The version string kazoo and zkServer.sh parse; the suffix names this implementation.</summary>
    public const string Version = "3.8.0-OrleansCoord-0.1, built on 2026-11-25 00:00 UTC";

    public static async Task RespondAsync(string word, GatewayServer server, PipeWriter output)
    {
        var text = await RenderAsync(word, server);
        await output.WriteAsync(Encoding.UTF8.GetBytes(text));
        await output.FlushAsync();
    }

    public static async Task<string> RenderAsync(string word, GatewayServer server)
    {
        var whitelist = server.Options.FourLetterWordWhitelist;
        if (!whitelist.Contains("*") && !whitelist.Contains(word))
        {
            return $"{word} is not executed because it is not in the whitelist.\n";
        }

        switch (word)
        {
            case "ruok":
                return "imok";
            case "isro":
                return "rw";
            case "envi":
                return Environment();
            case "conf":
                return Conf(server);
            case "cons":
                return Cons(server) + "\n";
            case "srvr":
                return Srvr(server, await server.QuorumLog.GetSummary());
            case "stat":
                return Stat(server, await server.QuorumLog.GetSummary());
            case "mntr":
                return Mntr(server, await server.QuorumLog.GetSummary(), await WatchCountAsync(server));
            default:
                return $"Unsupported four-letter word: {word}\n";
        }
    }

    /// <summary>
    /// Watches live in the subtree grains; mntr asks each grain in which this gateway's connections set
    /// watches (a connection's watches go when it closes, so no other grain holds any of them).
    /// </summary>
    private static async Task<int> WatchCountAsync(GatewayServer server)
    {
        var keys = server.Connections.Values.SelectMany(c => c.WatchedSubtrees).ToHashSet(StringComparer.Ordinal);
        var summaries = await Task.WhenAll(keys.Select(key => server.CallSubtreeAsync(key, grain => grain.GetSummary())));
        return summaries.Sum(s => s.WatchCount);
    }

    private static string Counters(GatewayServer server, ServerSummary summary)
    {
        var sb = new StringBuilder();
        sb.Append("Latency min/avg/max: 0/0.0/0\n");
        sb.Append("Received: ").Append(server.PacketsReceived).Append('\n');
        sb.Append("Sent: ").Append(server.Connections.Values.Sum(c => c.Output.Sent)).Append('\n');
        sb.Append("Connections: ").Append(server.Connections.Count).Append('\n');
        sb.Append("Outstanding: ").Append(server.Batcher.Outstanding).Append('\n');
        sb.Append("Zxid: 0x").Append(summary.LastZxid.ToString("x", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("Mode: ").Append(server.Mode).Append('\n');
        sb.Append("Node count: ").Append(summary.NodeCount).Append('\n');
        return sb.ToString();
    }

    private static string Srvr(GatewayServer server, ServerSummary summary) =>
        $"Zookeeper version: {Version}\n" + Counters(server, summary);

    private static string Stat(GatewayServer server, ServerSummary summary) =>
        $"Zookeeper version: {Version}\nClients:\n{Cons(server)}\n" + Counters(server, summary);

    private static string Cons(GatewayServer server)
    {
        var sb = new StringBuilder();
        foreach (var c in server.Connections.Values)
        {
            sb.Append(' ').Append('/').Append(c.RemoteEndPoint).Append("[1](queued=").Append(c.Output.Queued)
              .Append(",recved=").Append(c.Received).Append(",sent=").Append(c.Output.Sent)
              .Append(",sid=0x").Append(c.SessionId.ToString("x", System.Globalization.CultureInfo.InvariantCulture))
              .Append(",to=").Append(c.TimeoutMs).Append(")\n");
        }

        return sb.ToString();
    }

    private static string Mntr(GatewayServer server, ServerSummary summary, int watches)
    {
        var lines = new (string Key, object Value)[]
        {
            ("zk_version", Version),
            ("zk_server_state", "standalone"),
            ("zk_avg_latency", 0),
            ("zk_max_latency", 0),
            ("zk_min_latency", 0),
            ("zk_packets_received", server.PacketsReceived),
            ("zk_packets_sent", server.Connections.Values.Sum(c => c.Output.Sent)),
            ("zk_num_alive_connections", server.Connections.Count),
            ("zk_outstanding_requests", server.Batcher.Outstanding),
            ("zk_znode_count", summary.NodeCount),
            ("zk_watch_count", watches),
            ("zk_ephemerals_count", summary.EphemeralCount),
            ("zk_approximate_data_size", summary.ApproximateDataSize),
            ("zk_global_sessions", summary.SessionCount),
            ("zk_last_zxid", "0x" + summary.LastZxid.ToString("x", System.Globalization.CultureInfo.InvariantCulture)),
        };
        var sb = new StringBuilder();
        foreach (var (key, value) in lines)
        {
            sb.Append(key).Append('\t').Append(value).Append('\n');
        }

        return sb.ToString();
    }

    private static string Conf(GatewayServer server)
    {
        var o = server.Options;
        var sb = new StringBuilder();
        sb.Append("clientPort=").Append(o.ClientPort).Append('\n');
        sb.Append("secureClientPort=-1\n");
        sb.Append("dataDir=").Append(o.DataDir).Append('\n');
        sb.Append("dataDirSize=0\n");
        sb.Append("dataLogDir=").Append(o.DataLogDir).Append('\n');
        sb.Append("dataLogSize=0\n");
        sb.Append("tickTime=").Append(o.TickTime).Append('\n');
        sb.Append("maxClientCnxns=").Append(o.MaxClientCnxns).Append('\n');
        sb.Append("minSessionTimeout=").Append(o.EffectiveMinSessionTimeout).Append('\n');
        sb.Append("maxSessionTimeout=").Append(o.EffectiveMaxSessionTimeout).Append('\n');
        sb.Append("clientPortListenBacklog=-1\n");
        sb.Append("serverId=0\n");
        return sb.ToString();
    }

    private static string Environment() =>
        "Environment:\n" +
        $"zookeeper.version={Version}\n" +
        $"host.name={System.Environment.MachineName}\n" +
        $"dotnet.version={RuntimeInformation.FrameworkDescription}\n" +
        $"os.name={RuntimeInformation.OSDescription}\n" +
        $"os.arch={RuntimeInformation.OSArchitecture}\n" +
        $"user.dir={System.Environment.CurrentDirectory}\n" +
        $"os.memory.free={GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024 / 1024}MB\n";
}
