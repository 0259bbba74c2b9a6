using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Storage;

/// <summary>
/// One znode as a snapshot keeps it: everything the owning subtree grain holds except the children, which
/// follow from the paths. Recovery hands its metadata to the quorum-log grain's index and to the subtree grain alike.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct SnapshotNode(
    [property: Id(0)] string Path,
    [property: Id(1)] byte[]? Data,
    [property: Id(2)] NodeMeta Meta)
{
    public SnapshotNode(string path, byte[]? data, Acl[] acl, Stat stat, bool isContainer)
        : this(path, data, NodeMeta.Of(stat, acl, isContainer))
    {
    }

    public Acl[] Acl => Meta.Acl;

    public Stat Stat => Meta.Stat;

    public bool IsContainer => Meta.IsContainer;
}

/// <summary>
/// A live session as a snapshot keeps it, with the replies to its latest writes; its expiry restarts from the
/// moment it is restored.
/// </summary>
public sealed record SnapshotSession(long SessionId, int TimeoutMs, byte[] Password)
{
    public List<WriteOutcome> Outcomes { get; init; } = [];
}

/// <summary>
/// The tree and session table from one zxid on (ZooKeeper's snapshot.&lt;zxid&gt;). Like ZooKeeper's, it is
/// fuzzy: nodes may already hold changes after <see cref="Zxid"/>, which replaying the log from there makes
/// right again, because every logged change carries a node's complete state.
/// </summary>
public sealed record TreeSnapshot(long Zxid, IReadOnlyList<SnapshotNode> Nodes, IReadOnlyList<SnapshotSession> Sessions);

/// <summary>
/// A snapshot on its way to storage: its zxid and session table, and its nodes as chunks that may still be in the
/// making while the first ones are written (the subtree grains export them a chunk per call).
/// </summary>
public sealed record SnapshotContent(long Zxid, IReadOnlyList<SnapshotSession> Sessions, IAsyncEnumerable<SnapshotChunk> Nodes)
{
    /// <summary>The content of a snapshot held whole in memory, as recovery and migration have it.</summary>
    public static SnapshotContent Of(TreeSnapshot snapshot) => new(snapshot.Zxid, snapshot.Sessions, Chunks(snapshot.Nodes).ToAsyncEnumerable());

    private static IEnumerable<SnapshotChunk> Chunks(IReadOnlyList<SnapshotNode> nodes)
    {
        for (var i = 0; i < nodes.Count;)
        {
            var chunk = new SnapshotChunkBuilder();
            for (; i < nodes.Count && !chunk.IsFull; i++)
            {
                chunk.Add(nodes[i].Path, nodes[i].Data, nodes[i].Meta);
            }

            yield return chunk.ToChunk(i == nodes.Count ? -1 : i);
        }
    }
}
