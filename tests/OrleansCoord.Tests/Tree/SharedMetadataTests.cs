using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Security;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Grains.Tree;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Tests.Tree;

/// <summary>
/// A znode's metadata is one immutable object that the quorum-log grain's index and the subtree grain share; what it
/// keeps (container kind, ACL, Stat) must survive crossing silos, the txn log, and the changes made to it.
/// </summary>
public sealed class SharedMetadataTests
{
    private static readonly Serializer Serializer = new ServiceCollection()
        .AddSerializer(b => b.AddAssembly(typeof(TreeChange).Assembly))
        .BuildServiceProvider()
        .GetRequiredService<Serializer>();

    private static TreeChange CrossSilos(TreeChange change) => Serializer.Deserialize<TreeChange>(Serializer.SerializeToArray(change))!;

    private static Acl[] DigestAcl() => [new Acl(Perms.All, new Id("digest", "bob:x")), new Acl(Perms.Read, Id.Anyone)];

    private static TreeChange[] CreateContainer(string parent, string path, long zxid)
    {
        var meta = NodeMeta.Of(default(Stat) with { Czxid = zxid, Mzxid = zxid, Pzxid = zxid }, DigestAcl(), isContainer: true);
        var parentMeta = new NodeMeta(default(Stat) with { Cversion = 1, NumChildren = 1, Pzxid = zxid }, [.. Acl.OpenAclUnsafe]);
        return [new TreeChange(TreeChangeKind.Create, path, meta, [1, 2]), new TreeChange(TreeChangeKind.ChildAdded, parent, parentMeta, ChildPath: path)];
    }

    [Fact]
    public void A_change_that_crossed_silos_keeps_the_container_kind_and_the_acl()
    {
        var change = CreateContainer("/p", "/p/c", 5)[0];
        var copy = CrossSilos(change);

        Assert.True(copy.Meta.IsContainer);
        Assert.IsType<ContainerMeta>(copy.Meta);
        Assert.Equal(change.Stat, copy.Stat);
        Assert.Equal(DigestAcl(), copy.Meta.Acl);
    }

    [Fact]
    public void Changing_a_container_keeps_it_a_container()
    {
        var meta = NodeMeta.Of(default, DigestAcl(), isContainer: true);
        var changed = meta with { Stat = meta.Stat with { Version = 1 } };

        Assert.True(changed.IsContainer);
        Assert.False((new NodeMeta(default, []) with { Stat = default(Stat) with { Version = 1 } }).IsContainer);
        Assert.Same(meta.Acl, (meta with { Acl = DigestAcl() }).Acl);
    }

    [Fact]
    public void The_txn_log_reads_back_a_container_and_the_child_it_adds()
    {
        var txn = new Txn(5, 0x42, 1, 1000, OpCode.CreateContainer, CreateContainer("/p", "/p/c", 5));
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        TxnCodec.Write(new JuteWriter(output), txn);
        var reader = new JuteReader(output.WrittenSpan);
        var read = TxnCodec.Read(ref reader);

        Assert.True(read.Changes[0].Meta.IsContainer);
        Assert.Equal(DigestAcl(), read.Changes[0].Meta.Acl);
        Assert.Equal("/p/c", read.Changes[1].ChildPath);
        Assert.False(read.Changes[1].Meta.IsContainer);
    }

    [Fact]
    public void A_subtree_applying_copied_changes_lists_children_by_name_and_forgets_them_on_delete()
    {
        var tree = new DataTree();
        tree.Load(0, [new SnapshotNode("/p", null, [.. Acl.OpenAclUnsafe], default, false)], []);
        var fired = new List<WatchEvent>();
        var zxid = 0;
        foreach (var name in new[] { "b", "a", "c" })
        {
            // Copies, as a subtree grain on another silo receives them: the child's path arrives twice as separate strings.
            foreach (var change in CreateContainer("/p", "/p/" + name, ++zxid))
            {
                tree.Apply(new ApplyItem(zxid, 0, CrossSilos(change)), fired);
            }
        }

        var deleted = new NodeMeta(default(Stat) with { Cversion = 4, NumChildren = 2 }, [.. Acl.OpenAclUnsafe]);
        tree.Apply(new ApplyItem(++zxid, 0, new TreeChange(TreeChangeKind.Delete, "/p/b", tree.Get("/p/b")!.Value.Meta)), fired);
        tree.Apply(new ApplyItem(zxid, 1, new TreeChange(TreeChangeKind.ChildRemoved, "/p", deleted, ChildPath: "/p/" + "b")), fired);

        var parent = tree.Get("/p")!.Value;
        var encoded = tree.EncodedChildren("/p", parent);
        var reader = new JuteReader(encoded);
        Assert.Equal(["a", "c"], reader.ReadStringList());
        Assert.Equal(2, parent.Stat.NumChildren);
        Assert.True(tree.Get("/p/a")!.Value.IsContainer);

        // Deserializing bypasses the metadata's interning; the subtree keeps the shared list all the same.
        Assert.Same(AclCache.Intern(DigestAcl()), tree.Get("/p/c")!.Value.Acl);
    }
}
