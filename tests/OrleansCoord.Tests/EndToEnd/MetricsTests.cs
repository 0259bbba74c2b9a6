using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.EndToEnd;

/// <summary>/metrics on the AdminServer's port, in Prometheus' text format: ZooKeeper's metrics move as the tree and the traffic do.</summary>
public sealed partial class MetricsTests
{
    [Fact]
    public async Task Zookeeper_metrics_move_under_load()
    {
        await using var silo = await SiloProcess.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{silo.AdminPort}"), Timeout = TimeSpan.FromSeconds(30) };
        await using var client = await ZkWireClient.ConnectAsync(silo.Port);
        var before = await ScrapeAsync(http, "zookeeper_znode_count", _ => true);

        var root = "/metrics-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(ErrorCode.Ok, (await client.CreateAsync(root, [])).Header.Err);
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => client.CreateAsync($"{root}/n{i}", [1, 2, 3])));
        Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.GetData, w => new PathWatchRequest(root, true).Write(w))).Header.Err);

        // A plain read kept by the gateway's read cache, and the same read answered from it.
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.Exists, w => new PathWatchRequest(root, false).Write(w))).Header.Err);
        }

        // The tree's counts come from the quorum-log grain once a tick: wait for them.
        var metrics = await ScrapeAsync(http, "zookeeper_znode_count", m => m["zookeeper_znode_count"] >= before["zookeeper_znode_count"] + 41 && m["zookeeper_watch_count"] >= 1);
        Assert.True(metrics["zookeeper_num_alive_connections"] >= 1);
        Assert.True(metrics["zookeeper_packets_received_total"] >= 42);
        Assert.True(metrics["zookeeper_request_latency_milliseconds_count{op=\"Create\"}"] >= 41);
        Assert.True(metrics["zookeeper_request_latency_milliseconds_count{op=\"GetData\"}"] >= 1);
        Assert.True(metrics["zookeeper_fsync_time_milliseconds_count"] >= 1);
        Assert.True(metrics["zookeeper_approximate_data_size"] > before["zookeeper_approximate_data_size"]);
        Assert.Equal(0, metrics["zookeeper_read_only"]);
        Assert.True(metrics["orleanscoord_subtree_grains"] >= 2);
        Assert.True(metrics["orleanscoord_watermark_lag"] >= 0);
        Assert.True(metrics["orleanscoord_read_cache_hits_total"] >= 1);
        Assert.True(metrics["orleanscoord_read_cache_nodes"] >= 1);
    }

    [Fact]
    public async Task Metrics_go_to_an_OTLP_collector_when_the_standard_variables_name_one()
    {
        // A collector's OTLP/HTTP endpoint: each export is a protobuf POST to /v1/metrics, whose metric names are
        // plain UTF-8 strings in the body.
        var port = FreePorts.Take();
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://127.0.0.1:{port}/");
        collector.Start();
        var environment = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        };
        await using var silo = await SiloProcess.StartWithEnvironmentAsync(environment);
        await using var client = await ZkWireClient.ConnectAsync(silo.Port);
        Assert.Equal(ErrorCode.Ok, (await client.CreateAsync("/otlp-" + Guid.NewGuid().ToString("N")[..8], [1])).Header.Err);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string[] wanted = ["zookeeper.request_latency", "zookeeper.znode_count", "zookeeper.watch_count", "orleanscoord.subtree_grains"];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (seen.Count < wanted.Length)
        {
            var context = await collector.GetContextAsync().WaitAsync(deadline.Token);
            Assert.Equal("/v1/metrics", context.Request.Url!.AbsolutePath);
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            context.Response.StatusCode = 200;
            context.Response.Close();
            var text = System.Text.Encoding.UTF8.GetString(body.ToArray());
            seen.UnionWith(wanted.Where(name => text.Contains(name, StringComparison.Ordinal)));
        }
    }

    /// <summary>Scrapes until the condition holds (bounded); each sample by name and its labels other than the scope.</summary>
    private static async Task<Dictionary<string, double>> ScrapeAsync(HttpClient http, string needed, Func<Dictionary<string, double>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var samples = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (Match m in Sample().Matches(await http.GetStringAsync("/metrics")))
            {
                var labels = string.Join(",", m.Groups["labels"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("otel_scope", StringComparison.Ordinal)));
                samples[m.Groups["name"].Value + (labels.Length > 0 ? "{" + labels + "}" : "")] = double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }

            if (samples.ContainsKey(needed) && done(samples))
            {
                return samples;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{needed} never as expected");
            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"^(?<name>(zookeeper|orleanscoord)_[a-z_]+)(\{(?<labels>[^}]*)\})? (?<value>[-+0-9.eE]+|NaN)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
