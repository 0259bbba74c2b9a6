using OrleansCoord.Grains.Security;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Tree;

/// <summary>One znode held by a subtree grain: data, ACL, the Stat clients see, and child names.</summary>
public sealed class DataNode
{
    public DataNode(byte[]? data, Acl[] acl, Stat stat, bool isContainer)
    {
        Data = data;
        Acl = AclCache.Intern(acl);
        Stat = stat;
        IsContainer = isContainer;
    }

    /// <summary>Created as a container, which the server deletes once its last child goes.</summary>
    public bool IsContainer { get; }

    public byte[]? Data { get; set; }

    public Acl[] Acl
    {
        get;
        set => field = AclCache.Intern(value);
    }

    public Stat Stat { get; set; }

    // Most znodes are leaves: the set is made with the first child and dropped with the last.
    private HashSet<string>? _children;

    public IReadOnlyCollection<string> Children => (IReadOnlyCollection<string>?)_children ?? [];

    public void AddChild(string name) => (_children ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);

    public void RemoveChild(string name)
    {
        if (_children is not null && _children.Remove(name) && _children.Count == 0)
        {
            _children = null;
        }
    }
}
