using System.Globalization;
using System.Text.Json.Nodes;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.EndToEnd;

/// <summary>
/// The AdminServer's HTTP commands next to Apache ZooKeeper 3.8's (its Jetty AdminServer) after the same sessions,
/// watches and ephemerals: the same command names and aliases, no key ZooKeeper does not have, and the same
/// watches, sessions and ephemerals once session ids are named.
/// </summary>
public sealed class AdminServerTests
{
    // Every command and alias served; each is asked of both servers.
    private static readonly string[] Commands =
    [
        "configuration", "conf", "config", "connection_stat_reset", "crst", "connections", "cons", "dirs", "dump",
        "environment", "env", "envi", "is_read_only", "isro", "leader", "lead", "monitor", "mntr", "ruok",
        "server_stats", "srvr", "stat_reset", "srst", "stats", "stat", "watch_summary", "wchs", "watches", "wchc",
        "watches_by_path", "wchp", "no_such_command",
    ];

    // What a monitoring system reads from monitor, which must be there and typed as ZooKeeper types it.
    private static readonly string[] MonitorKeys =
    [
        "version", "server_state", "avg_latency", "max_latency", "min_latency", "packets_received", "packets_sent",
        "num_alive_connections", "outstanding_requests", "znode_count", "watch_count", "ephemerals_count",
        "approximate_data_size", "global_sessions", "uptime",
    ];

    [Fact]
    public async Task Admin_commands_answer_as_apache_zookeeper_does()
    {
        var adminPort = FreePorts.Take();
        await using var reference = await ReferenceZooKeeper.StartAsync("admin.enableServer=true", $"admin.serverPort={adminPort}");
        var expected = await RunAsync(reference.Port, adminPort);
        await using var silo = await SiloProcess.StartAsync();
        Assert.NotNull(silo.AdminPort);
        var actual = await RunAsync(silo.Port, silo.AdminPort.Value);

        foreach (var name in Commands)
        {
            var (theirs, ours) = (expected.Responses[name], actual.Responses[name]);
            Assert.True(Text(theirs["command"]) == Text(ours["command"]), $"{name}: command {ours["command"]}, ZooKeeper says {theirs["command"]}");
            Assert.True(Text(theirs["error"]) == Text(ours["error"]), $"{name}: error {ours["error"]}, ZooKeeper says {theirs["error"]}");
            if (name is not ("environment" or "env" or "envi"))
            {
                AssertKeysWithin(name, theirs, ours);
            }
        }

        foreach (var key in MonitorKeys)
        {
            Assert.True(expected.Responses["monitor"].ContainsKey(key), $"ZooKeeper's monitor has no {key}");
            var (theirs, ours) = (expected.Responses["monitor"][key]!, actual.Responses["monitor"][key]);
            Assert.True(ours is not null && ours.GetValueKind() == theirs.GetValueKind(), $"monitor {key}: {ours}, ZooKeeper: {theirs}");
        }

        // What the sessions did, as each server reports it.
        Assert.Equal(expected.Facts, actual.Facts);
        Assert.Contains("dump ephemerals: B=[ROOT/eph]", expected.Facts);

        // Every command listed at /commands is one ZooKeeper lists too.
        Assert.Subset(expected.Listed.ToHashSet(), actual.Listed.ToHashSet());
        Assert.Contains("monitor", actual.Listed);
    }

    private static string? Text(JsonNode? node) => node?.ToJsonString();

    /// <summary>Our keys, at every level of nested objects, are ZooKeeper's: nothing invented, nothing misnamed.</summary>
    private static void AssertKeysWithin(string path, JsonObject theirs, JsonObject ours)
    {
        foreach (var (key, value) in ours)
        {
            Assert.True(theirs.ContainsKey(key), $"{path}: key {key} is not ZooKeeper's");
            if (value is JsonObject inner && theirs[key] is JsonObject theirInner && key is not ("session_id_to_watched_paths" or "path_to_session_ids" or "expiry_time_to_session_ids" or "session_id_to_ephemeral_paths"))
            {
                AssertKeysWithin(path + "." + key, theirInner, inner);
            }
            else if (value is JsonArray { Count: > 0 } array && theirs[key] is JsonArray { Count: > 0 } theirArray
                     && array[0] is JsonObject first && theirArray[0] is JsonObject theirFirst)
            {
                AssertKeysWithin(path + "." + key + "[0]", theirFirst, first);
            }
        }
    }

    private sealed record Run(Dictionary<string, JsonObject> Responses, List<string> Facts, List<string> Listed);

    private static async Task<Run> RunAsync(int port, int adminPort)
    {
        var root = "/adm-" + Guid.NewGuid().ToString("N")[..10];
        await using var a = await ZkWireClient.ConnectAsync(port);
        await using var b = await ZkWireClient.ConnectAsync(port);
        await WatchingSessions.ArrangeAsync(a, b, root);

        var names = new Dictionary<string, string>
        {
            [a.Session!.SessionId.ToString(CultureInfo.InvariantCulture)] = "A",
            [b.Session!.SessionId.ToString(CultureInfo.InvariantCulture)] = "B",
        };
        string Name(string text)
        {
            foreach (var (id, name) in names)
            {
                text = text.Replace(id, name, StringComparison.Ordinal);
            }

            return text.Replace(root, "ROOT", StringComparison.Ordinal);
        }

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}"), Timeout = TimeSpan.FromSeconds(30) };
        var responses = new Dictionary<string, JsonObject>();
        foreach (var command in Commands)
        {
            responses[command] = JsonNode.Parse(await http.GetStringAsync("/commands/" + command))!.AsObject();
        }

        // Maps of sets whose order is ZooKeeper's hash order: compared as sorted entries.
        string Entries(JsonNode? map) => string.Join(" ", map!.AsObject().Select(p =>
            $"{Name(p.Key)}=[{string.Join(",", p.Value!.AsArray().Select(v => Name(v!.ToString())).Order(StringComparer.Ordinal))}]").Order(StringComparer.Ordinal));
        List<string> facts =
        [
            "watches: " + Entries(responses["wchc"]["session_id_to_watched_paths"]),
            "by path: " + Entries(responses["wchp"]["path_to_session_ids"]),
            $"summary: {responses["wchs"]["num_connections"]},{responses["wchs"]["num_paths"]},{responses["wchs"]["num_total_watches"]}",
            "dump ephemerals: " + Entries(responses["dump"]["session_id_to_ephemeral_paths"]),
            "dump sessions: " + string.Join(",", responses["dump"]["expiry_time_to_session_ids"]!.AsObject().SelectMany(p => p.Value!.AsArray()).Select(v => Name(v!.ToString())).Order(StringComparer.Ordinal)),
            "connections: " + responses["cons"]["connections"]!.AsArray().Count,
            "read only: " + responses["isro"]["read_only"],
        ];

        var listing = await http.GetStringAsync("/commands");
        var listed = System.Text.RegularExpressions.Regex.Matches(listing, "href=\"/commands/([a-z_]+)\"").Select(m => m.Groups[1].Value).ToList();
        return new Run(responses, facts, listed);
    }
}
