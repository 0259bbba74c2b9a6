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
                return server.ReadOnly ? "ro" : "rw";
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
            case "srst":
                server.Stats.Reset();
                return "Server stats reset.\n";
            case "crst":
                server.ResetConnectionStats();
                return "Connection stats reset.\n";
            case "wchs":
                return WatchSummary(await DataWatchesAsync(server));
            case "wchc":
                return WatchesBy(await DataWatchesAsync(server), byPath: false);
            case "wchp":
                return WatchesBy(await DataWatchesAsync(server), byPath: true);
            case "dump":
                return Dump(server, await server.QuorumLog.DumpSessions());
            case "dirs":
                return $"datadir_size: {DirectorySize(server.Options.DataDir)}\nlogdir_size: {DirectorySize(server.Options.DataLogDir)}\n";
            default:
                return $"Unsupported four-letter word: {word}\n";
        }
    }

    /// <summary>
    /// Watches live in the subtree grains; mntr asks each grain in which this gateway's connections set
    /// watches (a connection's watches go when it closes, so no other grain holds any of them).
    /// </summary>
    internal static async Task<int> WatchCountAsync(GatewayServer server)
    {
        var summaries = await Task.WhenAll(WatchedSubtrees(server).Select(key => server.CallSubtreeAsync(key, grain => grain.GetSummary())));
        return summaries.Sum(s => s.WatchCount);
    }

    /// <summary>
    /// The data watches (getData and exists) of this gateway's connections, which is what ZooKeeper's wchs, wchc
    /// and wchp list for a server: its own connections' data watches, not child watches.
    /// </summary>
    internal static async Task<PathWatch[]> DataWatchesAsync(GatewayServer server)
    {
        var perSubtree = await Task.WhenAll(WatchedSubtrees(server).Select(key => server.CallSubtreeAsync(key, grain => grain.GetDataWatches(server.GatewayId))));
        return [.. perSubtree.SelectMany(w => w)];
    }

    /// <summary>The subtrees in which this gateway's connections set watches: no other grain holds any of theirs.</summary>
    private static HashSet<string> WatchedSubtrees(GatewayServer server) =>
        server.Connections.Values.SelectMany(c => c.WatchedSubtrees).ToHashSet(StringComparer.Ordinal);

    private static string WatchSummary(PathWatch[] watches) =>
        $"{watches.Select(w => w.Watcher).Distinct().Count()} connections watching {watches.Select(w => w.Path).Distinct().Count()} paths\n" +
        $"Total watches:{watches.Length}\n";

    /// <summary>wchc: each connection's session and the paths it watches; wchp: each path and the sessions watching it.</summary>
    private static string WatchesBy(PathWatch[] watches, bool byPath)
    {
        var sb = new StringBuilder();
        if (byPath)
        {
            foreach (var path in watches.GroupBy(w => w.Path, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                sb.Append(path.Key).Append('\n');
                foreach (var watch in path)
                {
                    sb.Append("\t0x").Append(Hex(watch.Watcher.SessionId)).Append('\n');
                }
            }
        }
        else
        {
            foreach (var connection in watches.GroupBy(w => w.Watcher))
            {
                sb.Append("0x").Append(Hex(connection.Key.SessionId)).Append('\n');
                foreach (var watch in connection.OrderBy(w => w.Path, StringComparer.Ordinal))
                {
                    sb.Append('\t').Append(watch.Path).Append('\n');
                }
            }
        }

        return sb.Append('\n').ToString();
    }

    /// <summary>dump: sessions grouped by the tick they expire at, then each session's ephemerals, then connections.</summary>
    private static string Dump(GatewayServer server, SessionDump[] sessions)
    {
        var sets = sessions.GroupBy(s => ExpiryTick(s, server.Options.TickTime)).OrderBy(g => g.Key).ToList();
        var sb = new StringBuilder("SessionTracker dump:\n");
        sb.Append("Session Sets (").Append(sets.Count).Append(")/(").Append(sessions.Length).Append("):\n");
        foreach (var set in sets)
        {
            var at = DateTimeOffset.FromUnixTimeMilliseconds(set.Key).UtcDateTime;
            sb.Append(set.Count()).Append(" expire at ")
              .Append(at.ToString("ddd MMM dd HH:mm:ss 'UTC' yyyy", System.Globalization.CultureInfo.InvariantCulture)).Append(":\n");
            foreach (var session in set)
            {
                sb.Append("\t0x").Append(Hex(session.SessionId)).Append('\n');
            }
        }

        var withEphemerals = sessions.Where(s => s.Ephemerals.Length > 0).ToList();
        sb.Append("ephemeral nodes dump:\n");
        sb.Append("Sessions with Ephemerals (").Append(withEphemerals.Count).Append("):\n");
        foreach (var session in withEphemerals)
        {
            sb.Append("0x").Append(Hex(session.SessionId)).Append(":\n");
            foreach (var path in session.Ephemerals)
            {
                sb.Append('\t').Append(path).Append('\n');
            }
        }

        return sb.Append("Connections dump:\n").Append(Cons(server)).ToString();
    }

    private static string Hex(long value) => value.ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    private static string Counters(GatewayServer server, ServerSummary summary)
    {
        var sb = new StringBuilder();
        var (min, avg, max) = server.Stats.Latency();
        sb.Append("Latency min/avg/max: ").Append(min).Append('/').Append(Decimal(avg)).Append('/').Append(max).Append('\n');
        sb.Append("Received: ").Append(server.Stats.Received).Append('\n');
        sb.Append("Sent: ").Append(server.Stats.Sent).Append('\n');
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
            var stats = c.Output.Stats;
            var (min, avg, max) = stats.Latency();
            sb.Append(' ').Append('/').Append(c.RemoteEndPoint).Append("[1](queued=").Append(c.Output.Queued)
              .Append(",recved=").Append(stats.Received).Append(",sent=").Append(stats.Sent)
              .Append(",sid=0x").Append(c.SessionId.ToString("x", System.Globalization.CultureInfo.InvariantCulture))
              .Append(",to=").Append(c.TimeoutMs)
              .Append(",minlat=").Append(min).Append(",avglat=").Append(Decimal(avg)).Append(",maxlat=").Append(max).Append(")\n");
        }

        return sb.ToString();
    }

    private static string Mntr(GatewayServer server, ServerSummary summary, int watches)
    {
        var sb = new StringBuilder();
        foreach (var (key, value) in MonitorValues(server, summary, watches))
        {
            sb.Append(key).Append('\t').Append(value is double d ? Decimal(d) : value).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>What mntr reports, by ZooKeeper's key; the AdminServer's monitor gives the same without the zk_ prefix.</summary>
    internal static (string Key, object Value)[] MonitorValues(GatewayServer server, ServerSummary summary, int watches)
    {
        var (min, avg, max) = server.Stats.Latency();
        return
        [
            ("zk_version", Version),
            ("zk_server_state", server.Mode),
            ("zk_avg_latency", avg),
            ("zk_max_latency", max),
            ("zk_min_latency", min),
            ("zk_packets_received", server.Stats.Received),
            ("zk_packets_sent", server.Stats.Sent),
            ("zk_num_alive_connections", server.Connections.Count),
            ("zk_outstanding_requests", server.Batcher.Outstanding),
            ("zk_znode_count", summary.NodeCount),
            ("zk_watch_count", watches),
            ("zk_ephemerals_count", summary.EphemeralCount),
            ("zk_approximate_data_size", summary.ApproximateDataSize),
            ("zk_global_sessions", summary.SessionCount),
        ];
    }

    private static string Conf(GatewayServer server)
    {
        var o = server.Options;
        var sb = new StringBuilder();
        sb.Append("clientPort=").Append(o.ClientPort).Append('\n');
        sb.Append("secureClientPort=-1\n");
        sb.Append("dataDir=").Append(o.DataDir).Append('\n');
        sb.Append("dataDirSize=").Append(DirectorySize(o.DataDir)).Append('\n');
        sb.Append("dataLogDir=").Append(o.DataLogDir).Append('\n');
        sb.Append("dataLogSize=").Append(DirectorySize(o.DataLogDir)).Append('\n');
        sb.Append("tickTime=").Append(o.TickTime).Append('\n');
        sb.Append("maxClientCnxns=").Append(o.MaxClientCnxns).Append('\n');
        sb.Append("minSessionTimeout=").Append(o.EffectiveMinSessionTimeout).Append('\n');
        sb.Append("maxSessionTimeout=").Append(o.EffectiveMaxSessionTimeout).Append('\n');
        sb.Append("clientPortListenBacklog=-1\n");
        sb.Append("serverId=0\n");
        return sb.ToString();
    }

    /// <summary>Bytes in a directory's files, as ZooKeeper's dirs and conf report them (0 when there is none).</summary>
    internal static long DirectorySize(string? directory) =>
        string.IsNullOrEmpty(directory) || !Directory.Exists(directory)
            ? 0
            : new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    /// <summary>A double as Java prints one: "0.0", "1.25".</summary>
    private static string Decimal(double value) => value.ToString("0.0###", System.Globalization.CultureInfo.InvariantCulture);

    private static string Environment() =>
        "Environment:\n" + string.Concat(EnvironmentValues().Select(static e => $"{e.Key}={e.Value}\n"));

    /// <summary>What envi reports, by ZooKeeper's key; the AdminServer's environment gives the same as JSON.</summary>
    internal static (string Key, string Value)[] EnvironmentValues() =>
    [
        ("zookeeper.version", Version),
        ("host.name", System.Environment.MachineName),
        ("dotnet.version", RuntimeInformation.FrameworkDescription),
        ("os.name", RuntimeInformation.OSDescription),
        ("os.arch", RuntimeInformation.OSArchitecture.ToString()),
        ("user.dir", System.Environment.CurrentDirectory),
        ("os.memory.free", $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024 / 1024}MB"),
    ];

    /// <summary>The tick a session expires at, as ZooKeeper's session tracker buckets expiries (dump groups by it).</summary>
    internal static long ExpiryTick(SessionDump session, int tickTime)
    {
        var tick = Math.Max(1, tickTime);
        return ((session.ExpiresAtMs / tick) + 1) * tick;
    }
}
