using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using OrleansCoord.Gateway.Hosting;
using OrleansCoord.Grains.Abstractions;

namespace OrleansCoord.Gateway.Admin;

/// <summary>
/// ZooKeeper's AdminServer commands (/commands/NAME): what the four-letter words tell, as JSON objects with the keys
/// ZooKeeper 3.8 uses, each ending with "command" (the command's primary name) and "error".
/// </summary>
public static class AdminCommands
{
    private delegate Task<JsonObject> Run(GatewayServer server);

    private sealed record Command(string[] Names, Run Run);

    // ZooKeeper's own order of primary names, which /commands lists.
    private static readonly Command[] All =
    [
        new(["configuration", "conf", "config"], static s => Task.FromResult(Configuration(s))),
        new(["connection_stat_reset", "crst"], static s =>
        {
            s.ResetConnectionStats();
            return Task.FromResult(new JsonObject());
        }),
        new(["connections", "cons"], static s => Task.FromResult(new JsonObject { ["connections"] = Connections(s, brief: false), ["secure_connections"] = new JsonArray() })),
        new(["dirs"], static s => Task.FromResult(new JsonObject
        {
            ["datadir_size"] = FourLetterWordHandler.DirectorySize(s.Options.DataDir),
            ["logdir_size"] = FourLetterWordHandler.DirectorySize(s.Options.DataLogDir),
        })),
        new(["dump"], DumpAsync),
        new(["environment", "env", "envi"], static _ => Task.FromResult(Environment())),
        new(["is_read_only", "isro"], static s => Task.FromResult(new JsonObject { ["read_only"] = s.ReadOnly })),
        new(["leader", "lead"], static s => Task.FromResult(Leader(s))),
        new(["monitor", "mntr"], MonitorAsync),
        new(["ruok"], static _ => Task.FromResult(new JsonObject())),
        new(["server_stats", "srvr"], static async s => ServerStats(s, await s.QuorumLog.GetSummary())),
        new(["stat_reset", "srst"], static s =>
        {
            s.Stats.Reset();
            return Task.FromResult(new JsonObject());
        }),
        new(["stats", "stat"], static async s =>
        {
            var stats = ServerStats(s, await s.QuorumLog.GetSummary());
            stats["connections"] = Connections(s, brief: true);
            stats["secure_connections"] = new JsonArray();
            return stats;
        }),
        new(["watch_summary", "wchs"], static async s =>
        {
            var watches = await FourLetterWordHandler.DataWatchesAsync(s);
            return new JsonObject
            {
                ["num_connections"] = watches.Select(w => w.Watcher).Distinct().Count(),
                ["num_paths"] = watches.Select(w => w.Path).Distinct().Count(),
                ["num_total_watches"] = watches.Length,
            };
        }),
        new(["watches", "wchc"], static async s => new JsonObject
        {
            ["session_id_to_watched_paths"] = Grouped(await FourLetterWordHandler.DataWatchesAsync(s), w => Id(w.Watcher.SessionId), w => JsonValue.Create(w.Path)),
        }),
        new(["watches_by_path", "wchp"], static async s => new JsonObject
        {
            ["path_to_session_ids"] = Grouped(await FourLetterWordHandler.DataWatchesAsync(s), w => w.Path, w => JsonValue.Create(w.Watcher.SessionId)),
        }),
    ];

    private static readonly DateTime Started = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    /// <summary>The primary names, as /commands lists them.</summary>
    public static IEnumerable<string> Names => All.Select(c => c.Names[0]);

    /// <summary>Runs a command by any of its names; an unknown one answers with an error, as ZooKeeper's does.</summary>
    public static async Task<JsonObject> RunAsync(string name, GatewayServer server)
    {
        var command = All.FirstOrDefault(c => c.Names.Contains(name, StringComparer.Ordinal));
        if (command is null)
        {
            return new JsonObject { ["command"] = name, ["error"] = $"Unknown command: {name}" };
        }

        JsonObject response;
        try
        {
            response = await command.Run(server);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            response = new JsonObject { ["error"] = ex.Message };
        }

        response["command"] = command.Names[0];
        if (!response.ContainsKey("error"))
        {
            response["error"] = null;
        }

        return response;
    }

    private static JsonObject Configuration(GatewayServer server)
    {
        var o = server.Options;
        return new JsonObject
        {
            ["client_port"] = o.ClientPort,
            ["data_dir"] = o.DataDir,
            ["data_log_dir"] = o.DataLogDir,
            ["tick_time"] = o.TickTime,
            ["max_client_cnxns"] = o.MaxClientCnxns,
            ["min_session_timeout"] = o.EffectiveMinSessionTimeout,
            ["max_session_timeout"] = o.EffectiveMaxSessionTimeout,
            ["server_id"] = 0,
            ["client_port_listen_backlog"] = -1,
        };
    }

    /// <summary>Each connection as ZooKeeper's getConnectionInfo gives it; stats asks for the brief form.</summary>
    private static JsonArray Connections(GatewayServer server, bool brief)
    {
        var connections = new JsonArray();
        foreach (var c in server.Connections.Values)
        {
            var stats = c.Output.Stats;
            var info = new JsonObject
            {
                ["remote_socket_address"] = c.RemoteEndPoint,
                ["interest_ops"] = 1,
                ["outstanding_requests"] = c.Output.Queued,
                ["packets_received"] = stats.Received,
                ["packets_sent"] = stats.Sent,
            };
            if (!brief)
            {
                var (min, avg, max) = stats.Latency();
                info["session_id"] = c.SessionId;
                info["session_timeout"] = c.TimeoutMs;
                info["min_latency"] = min;
                info["avg_latency"] = (long)avg;
                info["max_latency"] = max;
            }

            connections.Add(info);
        }

        return connections;
    }

    private static async Task<JsonObject> DumpAsync(GatewayServer server)
    {
        var sessions = await server.QuorumLog.DumpSessions();
        return new JsonObject
        {
            ["expiry_time_to_session_ids"] = Grouped(sessions, s => Id(FourLetterWordHandler.ExpiryTick(s, server.Options.TickTime)), s => JsonValue.Create(s.SessionId)),
            ["session_id_to_ephemeral_paths"] = Grouped(
                sessions.Where(s => s.Ephemerals.Length > 0).SelectMany(s => s.Ephemerals.Select(path => (s.SessionId, Path: path))),
                e => Id(e.SessionId),
                e => JsonValue.Create(e.Path)),
        };
    }

    private static JsonObject Environment()
    {
        var environment = new JsonObject();
        foreach (var (key, value) in FourLetterWordHandler.EnvironmentValues())
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>As ZooKeeper: only a server of an ensemble has a leader; the leader here is the silo of the quorum-log grain.</summary>
    private static JsonObject Leader(GatewayServer server) => server.Options.Standalone
        ? new JsonObject { ["error"] = "server is not initialized" }
        : new JsonObject { ["is_leader"] = server.Mode == "leader", ["leader_ip"] = server.Leader?.Endpoint.Address.ToString() ?? "" };

    private static async Task<JsonObject> MonitorAsync(GatewayServer server)
    {
        var monitor = new JsonObject();
        foreach (var (key, value) in FourLetterWordHandler.MonitorValues(server, await server.QuorumLog.GetSummary(), await FourLetterWordHandler.WatchCountAsync(server)))
        {
            monitor[key["zk_".Length..]] = ToJson(value);
        }

        monitor["uptime"] = Uptime();
        return monitor;
    }

    private static JsonObject ServerStats(GatewayServer server, ServerSummary summary)
    {
        var (min, avg, max) = server.Stats.Latency();
        return new JsonObject
        {
            ["version"] = FourLetterWordHandler.Version,
            ["read_only"] = server.ReadOnly,
            ["server_stats"] = new JsonObject
            {
                ["packets_sent"] = server.Stats.Sent,
                ["packets_received"] = server.Stats.Received,
                ["data_dir_size"] = FourLetterWordHandler.DirectorySize(server.Options.DataDir),
                ["log_dir_size"] = FourLetterWordHandler.DirectorySize(server.Options.DataLogDir),
                ["server_state"] = server.Mode,
                ["last_processed_zxid"] = summary.LastZxid,
                ["outstanding_requests"] = server.Batcher.Outstanding,
                ["avg_latency"] = Math.Round(avg, 4),
                ["max_latency"] = max,
                ["min_latency"] = min,
                ["num_alive_client_connections"] = server.Connections.Count,
                ["uptime"] = Uptime(),
            },
            ["node_count"] = summary.NodeCount,
        };
    }

    private static long Uptime() => (long)(DateTime.UtcNow - Started).TotalMilliseconds;

    private static string Id(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A JSON object of arrays: each key once, its values in order, as ZooKeeper's maps of sets print.</summary>
    private static JsonObject Grouped<T>(IEnumerable<T> items, Func<T, string> key, Func<T, JsonValue> value)
    {
        var grouped = new JsonObject();
        foreach (var group in items.GroupBy(key, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            grouped[group.Key] = new JsonArray([.. group.Select(value).DistinctBy(static v => v.ToJsonString())]);
        }

        return grouped;
    }

    private static JsonValue ToJson(object value) => value switch
    {
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(Math.Round(d, 4)),
        _ => JsonValue.Create(value.ToString() ?? ""),
    };
}
