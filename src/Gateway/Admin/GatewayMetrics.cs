using System.Diagnostics.Metrics;
using OrleansCoord.Gateway.Hosting;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Protocol;

namespace OrleansCoord.Gateway.Admin;

/// <summary>
/// What ZooKeeper's Prometheus provider and mntr expose, as System.Diagnostics.Metrics instruments of the meter
/// "OrleansCoord.Gateway": connections, outstanding requests, packets, request latency per opcode, watches, and the
/// tree's counts as the quorum-log grain last reported them, with this server's own: subtree grains, how far this
/// gateway's applied watermark trailed the log, and its read cache.
/// </summary>
public sealed class GatewayMetrics : IDisposable
{
    public const string MeterName = "OrleansCoord.Gateway";

    // Opcode names made once: a tag per reply must not allocate.
    private static readonly Dictionary<OpCode, string> OpNames = Enum.GetValues<OpCode>().Distinct().ToDictionary(static op => op, static op => op.ToString());

    private readonly Meter _meter = new(MeterName);
    private readonly Histogram<double> _latency;

    public GatewayMetrics(GatewayServer server)
    {
        _latency = _meter.CreateHistogram<double>("zookeeper.request_latency", "ms", "Time from a request's arrival to its reply, by opcode");
        _meter.CreateObservableGauge("zookeeper.num_alive_connections", () => server.Connections.Count, description: "Client connections of this gateway");
        _meter.CreateObservableGauge("zookeeper.outstanding_requests", () => server.Batcher.Outstanding, description: "Writes waiting to be ordered");
        _meter.CreateObservableCounter("zookeeper.packets_received", () => server.Stats.Received, description: "Requests received");
        _meter.CreateObservableCounter("zookeeper.packets_sent", () => server.Stats.Sent, description: "Replies and events sent");
        _meter.CreateObservableGauge("zookeeper.read_only", () => server.ReadOnly ? 1 : 0, description: "1 while writes cannot be ordered");
        _meter.CreateObservableGauge("zookeeper.watch_count", () => server.WatchCount, description: "Watches of this gateway's connections, counted once a tick");
        _meter.CreateObservableCounter("orleanscoord.read_cache.hits", () => server.ReadCache?.Hits ?? 0, "{read}", "Plain reads answered from this gateway's read cache");
        _meter.CreateObservableGauge("orleanscoord.read_cache.nodes", () => server.ReadCache?.Count ?? 0, "{znode}", "Nodes whose replies this gateway's read cache holds");
        _meter.CreateObservableGauge("orleanscoord.read_cache.bytes", () => server.ReadCache?.Bytes ?? 0, "By", "Bytes of replies this gateway's read cache holds");
        _meter.CreateObservableGauge("orleanscoord.watermark_lag", () => server.WatermarkLag, "{txn}", "Txns the quorum-log grain had applied beyond this gateway's watermark, once a tick");
        Summary("orleanscoord.subtree_grains", static s => s.SubtreeCount, "Subtree grains holding the tree");
        Summary("zookeeper.znode_count", static s => s.NodeCount, "Znodes in the tree");
        Summary("zookeeper.ephemerals_count", static s => s.EphemeralCount, "Ephemeral znodes");
        Summary("zookeeper.global_sessions", static s => s.SessionCount, "Live sessions");
        Summary("zookeeper.approximate_data_size", static s => s.ApproximateDataSize, "Path and data bytes of every znode");

        void Summary(string name, Func<ServerSummary, long> value, string description) =>
            _meter.CreateObservableGauge(name, () => server.LastSummary is { } summary ? [new Measurement<long>(value(summary))] : Array.Empty<Measurement<long>>(), description: description);
    }

    /// <summary>Records one reply's latency under its request's opcode.</summary>
    public void RecordLatency(OpCode op, double milliseconds) =>
        _latency.Record(milliseconds, new KeyValuePair<string, object?>("op", OpNames.TryGetValue(op, out var name) ? name : op.ToString()));

    public void Dispose() => _meter.Dispose();
}
