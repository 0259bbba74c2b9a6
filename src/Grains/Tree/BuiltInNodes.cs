using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Tree;

/// <summary>The nodes every ZooKeeper tree starts with: "/", "/zookeeper", its quota and config children.</summary>
public static class BuiltInNodes
{
    public const string Zookeeper = "/zookeeper";
    public const string Quota = "/zookeeper/quota";
    public const string Config = "/zookeeper/config";

    /// <summary>One built-in node: path, ACL, Stat as clients see it, and child names.</summary>
    public sealed record Node(string Path, Acl[] Acl, Stat Stat, string[] Children);

    public static readonly IReadOnlyList<Node> All =
    [
        Make("/", ["zookeeper"]),
        Make(Zookeeper, ["quota", "config"]),
        Make(Quota, []),
        // DataTree.addConfigNode sets READ_ACL_UNSAFE with version -1, which leaves aversion at -1.
        new Node(Config, [new Acl(Protocol.Perms.Read, Id.Anyone)], default(Stat) with { Aversion = -1 }, []),
    ];

    /// <summary>Whether the path is one ZooKeeper refuses to delete (DataTree.isSpecialPath).</summary>
    public static bool IsSpecial(string path) => path is "/" or Zookeeper or Quota or Config;

    private static Node Make(string path, string[] children) =>
        // Clients see cversion = 2 * creates - numChildren; built-in children were never "created".
        new(path, [.. Acl.OpenAclUnsafe], default(Stat) with { NumChildren = children.Length, Cversion = -children.Length }, children);
}
