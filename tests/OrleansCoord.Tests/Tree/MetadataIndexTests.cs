using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.QuorumLog;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Tests.Tree;

/// <summary>
/// The quorum-log grain's index updates a node in place when it stays the same kind; these check that the container
/// and TTL sets and the data size still follow every change, including a node replaced by another kind in one commit
/// (a multi that deletes a path and creates a container there).
/// </summary>
public sealed class MetadataIndexTests
{
    private static NodeMeta Node(int dataLength, long owner = 0, bool container = false) =>
        NodeMeta.Of(new Stat(1, 1, 0, 0, 0, 0, 0, owner, dataLength, 0, 1), [.. Acl.OpenAclUnsafe], container);

    [Fact]
    public void A_node_replaced_by_another_kind_moves_between_the_container_and_ttl_sets()
    {
        var index = new MetadataIndex();
        index.Set("/a", Node(3));
        Assert.Empty(index.Containers);

        index.Set("/a", Node(3, container: true));
        Assert.Contains("/a", index.Containers);

        index.Set("/a", Node(3, owner: EphemeralOwners.ForTtl(1000)));
        Assert.DoesNotContain("/a", index.Containers);
        Assert.Contains("/a", index.Ttls);

        index.Set("/a", Node(3));
        Assert.Empty(index.Ttls);
        Assert.Empty(index.Containers);
    }

    [Fact]
    public void Updates_in_place_keep_the_data_size_and_the_subtree_keys()
    {
        var index = new MetadataIndex();
        index.Set("/app", Node(10, container: true));
        index.Set("/app/x", Node(5));
        Assert.Equal(4 + 10 + 6 + 5, index.ApproximateDataSize);

        // As every create does to its parent, and setData to its node.
        index.Set("/app", Node(10, container: true));
        index.Set("/app/x", Node(50));
        Assert.Equal(4 + 10 + 6 + 50, index.ApproximateDataSize);
        Assert.Equal(["/app"], index.SubtreeKeys);
        Assert.Equal(["/app"], index.Containers);

        index.Set("/app/x", null);
        Assert.Equal(4 + 10, index.ApproximateDataSize);
        Assert.Null(index.Get("/app/x"));
        Assert.Equal(1, index.Count);
    }
}
