using OrleansCoord.Grains.Storage;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Tree;

/// <summary>The nodes every ZooKeeper tree starts with: "/", "/zookeeper", its quota and config children.</summary>
public static class BuiltInNodes
{
    public const string Zookeeper = "/zookeeper";
    public const string Quota = "/zookeeper/quota";
    public const string Config = "/zookeeper/config";

    /// <summary>The tree before its first txn.</summary>
    public static readonly IReadOnlyList<SnapshotNode> Initial =
    [
        Make("/", 1),
        Make(Zookeeper, 2),
        Make(Quota, 0),
        // DataTree.addConfigNode sets READ_ACL_UNSAFE with version -1, which leaves aversion at -1.
        new SnapshotNode(Config, [], [new Acl(Protocol.Perms.Read, Id.Anyone)], default(Stat) with { Aversion = -1 }, false),
    ];

    /// <summary>Whether the path is one ZooKeeper refuses to delete (DataTree.isSpecialPath).</summary>
    public static bool IsSpecial(string path) => path is "/" or Zookeeper or Quota or Config;

    private static SnapshotNode Make(string path, int children) =>
        // Clients see cversion = 2 * creates - numChildren; built-in children were never "created".
        new(path, [], [.. Acl.OpenAclUnsafe], default(Stat) with { NumChildren = children, Cversion = -children }, false);
}
