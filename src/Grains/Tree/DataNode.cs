using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Security;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Tree;

/// <summary>
/// One znode held by a subtree grain: its data, its metadata (Stat, ACL, kind) and its children. The tree keeps it
/// by value in its table, so a znode costs no object of its own beside its metadata, path and data.
/// </summary>
public struct DataNode(NodeMeta meta, byte[]? data)
{
    /// <summary>
    /// The metadata the quorum-log grain decided. On the silo that hosts that grain it is the very instance its index
    /// keeps, so a znode's Stat and ACL are held once per silo, not twice.
    /// </summary>
    public NodeMeta Meta
    {
        readonly get;
        set => field = WithSharedAcl(value);
    } = WithSharedAcl(meta);

    public byte[]? Data { readonly get; set; } = data;

    public readonly Stat Stat => Meta.Stat;

    public readonly Acl[] Acl => Meta.Acl;

    /// <summary>Created as a container, which the server deletes once its last child goes.</summary>
    public readonly bool IsContainer => Meta.IsContainer;

    // Children by their full paths, the strings the tree's own keys are, compared by their last component: a child
    // costs an entry here but no string of its own. Most znodes are leaves: the set comes with the first child.
    private HashSet<string>? _children;

    public readonly IEnumerable<string> ChildNames => _children?.Select(PathValidation.Name) ?? [];

    public void AddChild(string childPath) => (_children ??= new HashSet<string>(ChildNameComparer.Instance)).Add(childPath);

    public void RemoveChild(string childPath)
    {
        if (_children is not null && _children.Remove(childPath) && _children.Count == 0)
        {
            _children = null;
        }
    }

    // Metadata that crossed silos arrives with an ACL list of its own; the shared one is kept instead.
    private static NodeMeta WithSharedAcl(NodeMeta meta)
    {
        var acl = AclCache.Intern(meta.Acl);
        return ReferenceEquals(acl, meta.Acl) ? meta : meta with { Acl = acl };
    }

    private sealed class ChildNameComparer : IEqualityComparer<string>
    {
        public static readonly ChildNameComparer Instance = new();

        public bool Equals(string? x, string? y) =>
            ReferenceEquals(x, y) || (x is not null && y is not null && PathValidation.NameSpan(x).SequenceEqual(PathValidation.NameSpan(y)));

        public int GetHashCode(string obj) => string.GetHashCode(PathValidation.NameSpan(obj));
    }
}
