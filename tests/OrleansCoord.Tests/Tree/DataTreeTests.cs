using OrleansCoord.Grains.Storage;
using OrleansCoord.Grains.Tree;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Tests.Tree;

/// <summary>What a subtree's table hands a snapshot export.</summary>
public sealed class DataTreeTests
{
    [Fact]
    public void The_nodes_a_snapshot_goes_through_are_every_node_once_in_blocks_off_the_large_object_heap()
    {
        const int Children = (2 * DataTree.NodeBlockSize) + 2;
        var tree = new DataTree();
        var nodes = new List<SnapshotNode> { new("/p", null, [.. Acl.OpenAclUnsafe], default, false) };
        nodes.AddRange(Enumerable.Range(0, Children).Select(i => new SnapshotNode($"/p/n{i}", [1], [.. Acl.OpenAclUnsafe], default, false)));
        tree.Load(1, nodes, ["p"]);

        var blocks = tree.CopyNodes();

        Assert.Equal([DataTree.NodeBlockSize, DataTree.NodeBlockSize, 3], blocks.Select(b => b.Length));
        Assert.True(DataTree.NodeBlockSize * System.Runtime.CompilerServices.Unsafe.SizeOf<KeyValuePair<string, DataNode>>() < 85_000,
            "a block of nodes would go to the large-object heap");
        Assert.All(blocks.SelectMany(b => b), n => Assert.Equal(n.Key == "/p" ? null : [1], n.Value.Data));
        var paths = blocks.SelectMany(b => b).Select(n => n.Key).ToList();
        Assert.Equal(paths.Count, paths.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(nodes.Select(n => n.Path).Order(StringComparer.Ordinal), paths.Order(StringComparer.Ordinal));
    }
}
