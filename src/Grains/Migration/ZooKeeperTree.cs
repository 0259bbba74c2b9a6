using OrleansCoord.Grains.Storage;
using OrleansCoord.Grains.Tree;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Migration;

/// <summary>
/// Apache ZooKeeper's DataTree as its snapshot stores it (cversion counts creates, containers are marked by their
/// ephemeralOwner), with its txns applied as ZooKeeper applies them when it restores, and turned into a snapshot
/// of this server.
/// </summary>
public sealed class ZooKeeperTree
{
    /// <summary>ZooKeeper's ephemeralOwner for a container node (EphemeralType.CONTAINER_EPHEMERAL_OWNER).</summary>
    public const long ContainerOwner = long.MinValue;

    private readonly Dictionary<string, Node> _nodes = new(StringComparer.Ordinal);

    // Each session's ephemerals, so closing a session does not scan the tree (ZooKeeper's DataTree.ephemerals).
    private readonly Dictionary<long, HashSet<string>> _ephemerals = [];

    /// <summary>Session id to timeout in ms: the sessions open at <see cref="Zxid"/>.</summary>
    public Dictionary<long, int> Sessions { get; } = [];

    /// <summary>The zxid of the snapshot, then of the last txn applied.</summary>
    public long Zxid { get; set; }

    /// <summary>Adds a node read from a snapshot; its parent must be there already, as ZooKeeper writes parents first.</summary>
    public void Load(string path, byte[]? data, IReadOnlyList<Acl> acl, StoredStat stat)
    {
        var node = new Node(data, acl, stat);
        if (path.Length == 0)
        {
            _nodes["/"] = node;
            return;
        }

        var parent = _nodes.GetValueOrDefault(ParentOf(path)) ?? throw new InvalidDataException($"snapshot holds {path} before its parent");
        parent.Children.Add(path);
        Add(path, node);
    }

    /// <summary>Applies one txn as ZooKeeper's DataTree.processTxn does on restore: a change that no longer applies is skipped.</summary>
    public void Apply(ZooKeeperTxn txn)
    {
        switch (txn)
        {
            case ZooKeeperTxn.CreateSession create:
                Sessions[create.SessionId] = create.TimeoutMs;
                break;
            case ZooKeeperTxn.CloseSession close:
                Sessions.Remove(close.SessionId);
                // The txn's paths, then whatever else the session still owns, as DataTree.killSession does.
                foreach (var path in (close.Paths ?? []).Concat(_ephemerals.GetValueOrDefault(close.SessionId) ?? []).ToList())
                {
                    Delete(path, close.Zxid);
                }

                break;
            case ZooKeeperTxn.Multi multi when !multi.Failed:
                foreach (var op in multi.Ops)
                {
                    Apply(op);
                }

                break;
            case ZooKeeperTxn.Create create:
                Create(create);
                break;
            case ZooKeeperTxn.Delete delete:
                Delete(delete.Path, delete.Zxid);
                break;
            case ZooKeeperTxn.SetData set when _nodes.TryGetValue(set.Path, out var node):
                node.Data = set.Data;
                node.Stat = node.Stat with { Version = set.Version, Mzxid = set.Zxid, Mtime = set.Time };
                break;
            case ZooKeeperTxn.SetAcl set when _nodes.TryGetValue(set.Path, out var node):
                node.Acl = set.Acl;
                node.Stat = node.Stat with { Aversion = set.Version };
                break;
        }

        Zxid = Math.Max(Zxid, txn.Zxid);
    }

    private void Create(ZooKeeperTxn.Create create)
    {
        if (!_nodes.TryGetValue(ParentOf(create.Path), out var parent) || !parent.Children.Add(create.Path))
        {
            return;
        }

        var cversion = create.ParentCversion == -1 ? parent.Stat.Cversion + 1 : create.ParentCversion;
        if (cversion > parent.Stat.Cversion)
        {
            // A fuzzy snapshot may already hold later creates under this parent: never move its counts back.
            parent.Stat = parent.Stat with { Cversion = cversion, Pzxid = create.Zxid };
        }

        Add(create.Path, new Node(create.Data, create.Acl, new StoredStat(
            create.Zxid, create.Zxid, create.Time, create.Time, 0, 0, 0, create.EphemeralOwner, create.Zxid)));
    }

    private void Add(string path, Node node)
    {
        _nodes[path] = node;
        if (IsSessionOwned(node))
        {
            if (!_ephemerals.TryGetValue(node.Stat.EphemeralOwner, out var owned))
            {
                owned = new HashSet<string>(StringComparer.Ordinal);
                _ephemerals[node.Stat.EphemeralOwner] = owned;
            }

            owned.Add(path);
        }
    }

    private void Delete(string path, long zxid)
    {
        // The parent's pzxid moves even when a fuzzy snapshot no longer holds the child.
        if (_nodes.TryGetValue(ParentOf(path), out var parent))
        {
            parent.Children.Remove(path);
            if (zxid > parent.Stat.Pzxid)
            {
                parent.Stat = parent.Stat with { Pzxid = zxid };
            }

            if (_nodes.Remove(path, out var node) && IsSessionOwned(node))
            {
                _ephemerals[node.Stat.EphemeralOwner].Remove(path);
            }
        }
    }

    /// <summary>An ephemeral of a session: neither persistent, nor a container, nor a TTL node.</summary>
    private static bool IsSessionOwned(Node node) =>
        node.Stat.EphemeralOwner != ContainerOwner && EphemeralOwners.IsSession(node.Stat.EphemeralOwner, extendedTypes: true);

    /// <summary>
    /// This server's snapshot of the tree at <see cref="Zxid"/>: stats as clients see them, containers marked, the
    /// built-in nodes of this server in place of ZooKeeper's /zookeeper/config (membership here belongs to Orleans),
    /// and each open session with the password ZooKeeper gave it. Ephemerals whose session is no longer open are
    /// left out (ZooKeeper would hold them until it restarted); how many is returned.
    /// </summary>
    public (TreeSnapshot Snapshot, int OrphanEphemerals) ToSnapshot()
    {
        if (!_nodes.ContainsKey(BuiltInNodes.Config) && _nodes.ContainsKey(BuiltInNodes.Zookeeper))
        {
            // Snapshots of ZooKeeper before 3.5 have no config node; this server's tree always does.
            Load(BuiltInNodes.Config, null, Acl.ReadAclUnsafe, default);
        }

        var orphans = _ephemerals.Where(e => !Sessions.ContainsKey(e.Key))
            .SelectMany(e => e.Value)
            .ToHashSet(StringComparer.Ordinal);
        var nodes = new List<SnapshotNode>(_nodes.Count);
        foreach (var (path, node) in _nodes.OrderBy(n => n.Key, StringComparer.Ordinal))
        {
            if (orphans.Contains(path))
            {
                continue;
            }

            if (path == BuiltInNodes.Config)
            {
                nodes.Add(BuiltInNodes.Initial.Single(n => n.Path == BuiltInNodes.Config));
                continue;
            }

            var children = node.Children.Count(c => !orphans.Contains(c));
            var stored = node.Stat;
            var isContainer = stored.EphemeralOwner == ContainerOwner;
            var stat = new Stat(
                stored.Czxid, stored.Mzxid, stored.Ctime, stored.Mtime, stored.Version,
                (stored.Cversion * 2) - children, stored.Aversion, isContainer ? 0 : stored.EphemeralOwner,
                node.Data?.Length ?? 0, children, stored.Pzxid);
            nodes.Add(new SnapshotNode(path, node.Data, [.. node.Acl], stat, isContainer));
        }

        var sessions = Sessions.OrderBy(s => s.Key)
            .Select(s => new SnapshotSession(s.Key, s.Value, ZooKeeperSessionPassword.For(s.Key)))
            .ToList();
        return (new TreeSnapshot(Zxid, nodes, sessions), orphans.Count);
    }

    private static string ParentOf(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }

    /// <summary>ZooKeeper's StatPersisted: cversion counts the creates of children.</summary>
    public readonly record struct StoredStat(
        long Czxid, long Mzxid, long Ctime, long Mtime, int Version, int Cversion, int Aversion, long EphemeralOwner, long Pzxid);

    private sealed class Node(byte[]? data, IReadOnlyList<Acl> acl, StoredStat stat)
    {
        public byte[]? Data { get; set; } = data;

        public IReadOnlyList<Acl> Acl { get; set; } = acl;

        public StoredStat Stat { get; set; } = stat;

        public HashSet<string> Children { get; } = new(StringComparer.Ordinal);
    }
}
