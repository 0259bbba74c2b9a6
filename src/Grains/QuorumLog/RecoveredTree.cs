using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Grains.Tree;
using OrleansCoord.Protocol;

namespace OrleansCoord.Grains.QuorumLog;

/// <summary>
/// The tree and session table as recovery rebuilds them: the latest snapshot (or the built-in nodes) with the
/// log after it replayed on top. Replay is idempotent per change, which is what lets snapshots be fuzzy.
/// </summary>
public sealed class RecoveredTree
{
    private RecoveredTree(long zxid) => Zxid = zxid;

    /// <summary>The zxid of the last txn folded in.</summary>
    public long Zxid { get; private set; }

    public Dictionary<string, SnapshotNode> Nodes { get; } = new(StringComparer.Ordinal);

    public Dictionary<long, SnapshotSession> Sessions { get; } = [];

    public static RecoveredTree From(TreeSnapshot? snapshot)
    {
        var tree = new RecoveredTree(snapshot?.Zxid ?? 0);
        foreach (var node in snapshot?.Nodes ?? BuiltInNodes.Initial)
        {
            tree.Nodes[node.Path] = node;
        }

        foreach (var session in snapshot?.Sessions ?? [])
        {
            tree.Sessions[session.SessionId] = session with { Outcomes = [.. session.Outcomes] };
        }

        return tree;
    }

    public void Replay(Txn txn)
    {
        foreach (var change in txn.Changes)
        {
            var path = change.Path;
            switch (change.Kind)
            {
                case TreeChangeKind.Create:
                    Nodes[path] = new SnapshotNode(path, change.Data, change.Meta);
                    break;
                case TreeChangeKind.Delete:
                    Nodes.Remove(path);
                    break;
                case TreeChangeKind.SetData when Nodes.TryGetValue(path, out var node):
                    Nodes[path] = node with { Data = change.Data, Meta = node.Meta with { Stat = change.Stat } };
                    break;
                case TreeChangeKind.SetAcl when Nodes.TryGetValue(path, out var node):
                    Nodes[path] = node with { Meta = node.Meta with { Acl = change.Meta.Acl, Stat = change.Stat } };
                    break;
                case TreeChangeKind.ChildAdded or TreeChangeKind.ChildRemoved when Nodes.TryGetValue(path, out var node):
                    Nodes[path] = node with { Meta = node.Meta with { Stat = change.Stat } };
                    break;
            }
        }

        if (txn.Outcomes is { Length: > 0 } outcomes && Sessions.TryGetValue(txn.SessionId, out var owner))
        {
            // Kept until the session's next batch, so that a write sent again to a new leader is answered from here.
            owner.Outcomes.AddRange(outcomes);
        }

        if (txn.Type == OpCode.CreateSession)
        {
            Sessions[txn.SessionId] = new SnapshotSession(txn.SessionId, txn.SessionTimeout, txn.SessionPassword ?? []);
        }
        else if (txn.Type == OpCode.CloseSession)
        {
            Sessions.Remove(txn.SessionId);
        }

        Zxid = txn.Zxid;
    }

    /// <summary>The quorum-log grain's state for this tree: the metadata index and the session table with each session's ephemerals.</summary>
    public (MetadataIndex Index, SessionTracker Sessions) BuildState(long serverId, long nowMs)
    {
        var index = new MetadataIndex();
        var sessions = new SessionTracker(serverId, nowMs);
        foreach (var session in Sessions.Values)
        {
            sessions.Restore(session, nowMs);
        }

        foreach (var node in Nodes.Values)
        {
            index.Set(node.Path, node.Meta);
            if (node.Stat.EphemeralOwner != 0)
            {
                sessions.AddEphemeral(node.Stat.EphemeralOwner, node.Path);
            }
        }

        return (index, sessions);
    }

    /// <summary>The names of the root's children, which live in subtree grains of their own.</summary>
    public string[] TopLevelNames() =>
        [.. Nodes.Keys.Where(p => p.Length > 1 && p.IndexOf('/', 1) < 0).Select(p => p[1..])];

    /// <summary>Each subtree grain's nodes, keyed as <see cref="SubtreePartitioner"/> keys them.</summary>
    public Dictionary<string, List<SnapshotNode>> BySubtree()
    {
        var subtrees = new Dictionary<string, List<SnapshotNode>>(StringComparer.Ordinal);
        foreach (var node in Nodes.Values)
        {
            var key = SubtreePartitioner.KeyFor(node.Path);
            if (!subtrees.TryGetValue(key, out var list))
            {
                list = [];
                subtrees[key] = list;
            }

            list.Add(node);
        }

        return subtrees;
    }
}
