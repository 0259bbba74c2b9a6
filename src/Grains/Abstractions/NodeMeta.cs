using OrleansCoord.Grains.Security;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Abstractions;

/// <summary>
/// A znode's Stat, ACL and kind, without its data: what the quorum-log grain validates writes against. Immutable,
/// so that the change which sets it and, on the same silo, the subtree grain holding the node keep this one instance.
/// </summary>
[GenerateSerializer, Immutable]
public record NodeMeta([property: Id(0)] Stat Stat, Acl[] Acl)
{
    /// <summary>The ACL, one list shared by every node that has the same (ZooKeeper's ACL cache).</summary>
    [Id(1)]
    public Acl[] Acl
    {
        get;
        init => field = AclCache.Intern(value);
    } = AclCache.Intern(Acl);

    /// <summary>
    /// Children ever created, ZooKeeper's stored cversion and the source of sequential suffixes: every change keeps
    /// the cversion clients see at 2 * creates - numChildren, as ZooKeeper reports it.
    /// </summary>
    public int CreateCount => (int)(((long)Stat.Cversion + Stat.NumChildren) / 2);

    /// <summary>Created as a container, which the server deletes once its last child goes.</summary>
    public virtual bool IsContainer => false;

    public static NodeMeta Of(Stat stat, Acl[] acl, bool isContainer) => isContainer ? new ContainerMeta(stat, acl) : new NodeMeta(stat, acl);
}

/// <summary>
/// A container's metadata. A kind of its own rather than a flag, which would add 8 bytes to every znode's metadata;
/// `with` keeps the kind.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ContainerMeta(Stat Stat, Acl[] Acl) : NodeMeta(Stat, Acl)
{
    public override bool IsContainer => true;
}
