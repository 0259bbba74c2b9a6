using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Storage;

/// <summary>
/// One znode as a snapshot keeps it: everything the owning subtree grain holds except the children, which
/// follow from the paths, and the count of children ever created, which follows from the Stat.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SnapshotNode(
    [property: Id(0)] string Path,
    [property: Id(1)] byte[]? Data,
    [property: Id(2)] Acl[] Acl,
    [property: Id(3)] Stat Stat,
    [property: Id(4)] bool IsContainer);

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
