using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Tree;

/// <summary>One znode held by a subtree grain: data, ACL, the Stat clients see, and child names.</summary>
public sealed class DataNode
{
    public DataNode(byte[]? data, Acl[] acl, Stat stat, bool isContainer)
    {
        Data = data;
        Acl = acl;
        Stat = stat;
        IsContainer = isContainer;
    }

    /// <summary>Created as a container, which the server deletes once its last child goes.</summary>
    public bool IsContainer { get; }

    public byte[]? Data { get; set; }

    public Acl[] Acl { get; set; }

    public Stat Stat { get; set; }

    public HashSet<string> Children { get; } = new(StringComparer.Ordinal);
}
