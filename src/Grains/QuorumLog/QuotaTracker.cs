using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Grains.Tree;
using OrleansCoord.Protocol;

namespace OrleansCoord.Grains.QuorumLog;

/// <summary>
/// ZooKeeper's quotas: the limits clients write under /zookeeper/quota/PATH/zookeeper_limits, and the node count and
/// data bytes under each such PATH, which ZooKeeper keeps in PATH's zookeeper_stats node without a txn. Changes count
/// against the deepest quota above them, as in ZooKeeper; with enforceQuota a hard limit refuses them
/// (QUOTAEXCEEDED) and a soft one is reported.
/// </summary>
public sealed class QuotaTracker(bool enforce, Action<string> softLimitExceeded)
{
    private const string QuotaRoot = "/zookeeper/quota";
    private const string LimitNode = "zookeeper_limits";
    private const string StatNode = "zookeeper_stats";

    private readonly Dictionary<string, StatsTrack> _limits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Count, long Bytes)> _usage = new(StringComparer.Ordinal);

    /// <summary>The quotas in a recovered tree, with the usage under each counted afresh, as ZooKeeper's setupQuota does.</summary>
    public void Load(IEnumerable<SnapshotNode> nodes)
    {
        var all = nodes as IReadOnlyCollection<SnapshotNode> ?? [.. nodes];
        foreach (var node in all)
        {
            if (QuotaPathOf(node.Path, LimitNode) is { } path)
            {
                _limits[path] = StatsTrack.Parse(node.Data);
                _usage[path] = Count(all.Select(static n => (n.Path, (long)n.Stat.DataLength)), path);
            }
        }
    }

    /// <summary>Whether the path is a quota's zookeeper_stats node, whose text is the live usage.</summary>
    public static bool IsStatNode(string path) => QuotaPathOf(path, StatNode) is not null;

    /// <summary>The current usage under a quota's path, as its zookeeper_stats node shows it; null when it has no quota.</summary>
    public StatsTrack? Usage(string statNodePath) =>
        QuotaPathOf(statNodePath, StatNode) is { } path && _usage.TryGetValue(path, out var usage)
            ? new StatsTrack(usage.Count, usage.Bytes)
            : null;

    /// <summary>ZooKeeperServer.checkQuota for a create (countDiff 1) or a setData (countDiff 0) under the path.</summary>
    public ErrorCode? Check(string path, long bytesDiff, int countDiff)
    {
        if (!enforce || DeepestQuota(path) is not { } quota)
        {
            return null;
        }

        var limits = _limits[quota];
        var usage = _usage[quota];
        if (countDiff != 0 && Exceeds(quota, "Count", usage.Count + countDiff, limits.Count, limits.CountHardLimit)
            || bytesDiff != 0 && Exceeds(quota, "Byte", usage.Bytes + bytesDiff, limits.Bytes, limits.ByteHardLimit))
        {
            return ErrorCode.QuotaExceeded;
        }

        return null;
    }

    /// <summary>
    /// Counts a request's committed changes against the quotas, and takes in quotas set, changed or removed;
    /// <paramref name="before"/> gives the index as it was before the request.
    /// </summary>
    public void Apply(IReadOnlyList<TreeChange> changes, Func<string, NodeMeta?> before, Func<IEnumerable<(string Path, long DataLength)>> index)
    {
        // Without quotas only a new limits node matters: the write path pays one prefix check per create.
        Dictionary<string, long>? lengths = null;
        for (var i = 0; i < changes.Count; i++)
        {
            var change = changes[i];
            var path = change.Path;
            if (_limits.Count == 0 && !(change.Kind == TreeChangeKind.Create && path.StartsWith(QuotaRoot, StringComparison.Ordinal)))
            {
                continue;
            }

            switch (change.Kind)
            {
                case TreeChangeKind.Create:
                    Add(path, 1, change.Stat.DataLength);
                    (lengths ??= new(StringComparer.Ordinal))[path] = change.Stat.DataLength;
                    if (QuotaPathOf(path, LimitNode) is { } created)
                    {
                        _limits[created] = StatsTrack.Parse(change.Data);
                        _usage[created] = Count(index(), created);
                    }

                    break;
                case TreeChangeKind.Delete:
                    Add(path, -1, -change.Stat.DataLength);
                    lengths?.Remove(path);
                    if (QuotaPathOf(path, LimitNode) is { } removed)
                    {
                        _limits.Remove(removed);
                        _usage.Remove(removed);
                    }

                    break;
                case TreeChangeKind.SetData:
                    var old = lengths is not null && lengths.TryGetValue(path, out var length) ? length : before(path)?.Stat.DataLength ?? 0;
                    Add(path, 0, change.Stat.DataLength - old);
                    (lengths ??= new(StringComparer.Ordinal))[path] = change.Stat.DataLength;
                    if (QuotaPathOf(path, LimitNode) is { } changed)
                    {
                        _limits[changed] = StatsTrack.Parse(change.Data);
                    }

                    break;
            }
        }
    }

    private bool Exceeds(string quota, string kind, long value, long softLimit, long hardLimit)
    {
        var hard = hardLimit > -1;
        var limit = hard ? hardLimit : softLimit;
        if (limit < 0 || value <= limit)
        {
            return false;
        }

        softLimitExceeded($"Quota exceeded: {quota} [current {kind.ToLowerInvariant()}={value}, {(hard ? "hard" : "soft")}{kind}Limit={limit}]");
        return hard;
    }

    private void Add(string path, long count, long bytes)
    {
        if (DeepestQuota(path) is { } quota)
        {
            var (c, b) = _usage[quota];
            _usage[quota] = (c + count, b + bytes);
        }
    }

    /// <summary>DataTree.getMaxPrefixWithQuota: the deepest path at or above this one with a quota; never "/" or under /zookeeper.</summary>
    private string? DeepestQuota(string path)
    {
        if (_limits.Count == 0 || path.StartsWith(BuiltInNodes.Zookeeper, StringComparison.Ordinal))
        {
            return null;
        }

        for (var at = path; at != "/"; at = PathValidation.Parent(at))
        {
            if (_limits.ContainsKey(at))
            {
                return at;
            }
        }

        return null;
    }

    /// <summary>The quota'd path a limits or stats node belongs to: /zookeeper/quota/a/b/zookeeper_limits is /a/b's.</summary>
    private static string? QuotaPathOf(string path, string node) =>
        path.Length > QuotaRoot.Length + node.Length + 2
        && path.StartsWith(QuotaRoot + "/", StringComparison.Ordinal)
        && path.EndsWith("/" + node, StringComparison.Ordinal)
            ? path[QuotaRoot.Length..^(node.Length + 1)]
            : null;

    /// <summary>DataTree.getCounts: the node itself and every node below it, and their data bytes.</summary>
    private static (long Count, long Bytes) Count(IEnumerable<(string Path, long DataLength)> nodes, string path)
    {
        long count = 0, bytes = 0;
        foreach (var (at, length) in nodes)
        {
            if (PathValidation.IsAtOrBelow(at, path))
            {
                count++;
                bytes += length;
            }
        }

        return (count, bytes);
    }
}
