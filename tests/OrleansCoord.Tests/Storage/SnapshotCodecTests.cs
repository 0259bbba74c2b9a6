using System.Buffers;
using System.Buffers.Binary;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Tests.Storage;

/// <summary>The stored form of snapshots: nodes in chunks with ACL lists by reference, and the older formats still read.</summary>
public sealed class SnapshotCodecTests
{
    private static readonly Acl[] Open = [.. Acl.OpenAclUnsafe];
    private static readonly Acl[] ReadOnly = [.. Acl.ReadAclUnsafe];
    private static readonly Acl[] Digest = [new Acl(Perms.All, new Id("digest", "bob:0VoTj/kMyb8JE4ojCVTl7HpUPHQ=")), new Acl(Perms.Read, Id.Anyone)];

    private static async Task<byte[]> WriteAsync(TreeSnapshot snapshot)
    {
        var stored = new MemoryStream();
        var nodes = await SnapshotCodec.WriteAsync(SnapshotContent.Of(snapshot), stored, CancellationToken.None);
        Assert.Equal(snapshot.Nodes.Count, nodes);
        return stored.ToArray();
    }

    [Fact]
    public async Task Nodes_read_back_with_their_own_acl_lists_across_chunks_and_past_a_node_larger_than_a_chunk()
    {
        Acl[][] acls = [Open, ReadOnly, Digest];
        var nodes = Enumerable.Range(0, 3000)
            .Select(i => new SnapshotNode($"/app/n{i:D5}", i % 7 == 0 ? null : new byte[i % 50], acls[i / 100 % 3], default(Stat) with { Czxid = i, Mzxid = i + 1, Pzxid = -i, Version = i % 9, EphemeralOwner = i % 2 }, i % 11 == 0))
            .ToList();
        nodes.Insert(1500, new SnapshotNode("/app/large", [.. Enumerable.Range(0, 3 * SnapshotChunkBuilder.TargetBytes).Select(i => (byte)i)], Digest, default(Stat) with { DataLength = 3 * SnapshotChunkBuilder.TargetBytes }, false));
        var written = new TreeSnapshot(0x200000009, nodes, [new SnapshotSession(5, 4000, [1, 2])]);

        var bytes = await WriteAsync(written);
        var read = SnapshotCodec.Read(bytes, written.Zxid);

        Assert.Equal(written.Nodes.Count, read.Nodes.Count);
        for (var i = 0; i < written.Nodes.Count; i++)
        {
            var (a, b) = (written.Nodes[i], read.Nodes[i]);
            Assert.Equal((a.Path, a.Stat, a.IsContainer), (b.Path, b.Stat, b.IsContainer));
            Assert.Equal(a.Data, b.Data);
            Assert.Equal(a.Acl, b.Acl);
        }

        // Each list is written once per chunk, not once per node, and a node costs its data and at most 40 bytes
        // besides: its path mostly shared with the node before, its Stat as differences (version 3 took 81 and more).
        var aclBytes = written.Nodes.Sum(n => 4 + n.Acl.Sum(a => 4 + 8 + a.Id.Scheme.Length + a.Id.Identity.Length));
        var rest = written.Nodes.Sum(n => 40 + (n.Data?.Length ?? 0));
        Assert.InRange(bytes.Length, written.Nodes.Sum(n => n.Data?.Length ?? 0), rest + (aclBytes / 4));
    }

    [Fact]
    public async Task Every_stat_field_and_path_reads_back_exactly_whatever_its_value()
    {
        Stat[] stats =
        [
            new(long.MaxValue, long.MinValue, long.MinValue, long.MaxValue, int.MaxValue, int.MinValue, -1, long.MinValue, 7, int.MaxValue, long.MaxValue),
            new(-1, 0, 1, -1, -1, -3, int.MinValue, 0x1234_5678_9ABC, int.MinValue, 0, long.MinValue),
            default(Stat) with { DataLength = 3 },
        ];

        // Paths whose shared part with the one before ends inside a surrogate pair or a multi-byte character.
        string[] paths = ["/\U0001F600a", "/\U0001F601b", "/\U0001F601\u00e9", "/\U0001F601\u00e8/x", "/", "/a", "/\u00e9"];
        var nodes = paths.Select((p, i) => new SnapshotNode(p, i % 3 == 0 ? null : i % 3 == 1 ? [] : [1, 2, 3], Open, stats[i % stats.Length], i % 2 == 0)).ToList();

        var read = SnapshotCodec.Read(await WriteAsync(new TreeSnapshot(9, nodes, [])), 9);

        Assert.Equal(nodes.Select(n => (n.Path, n.Stat, n.IsContainer, n.Data?.Length)), read.Nodes.Select(n => (n.Path, n.Stat, n.IsContainer, n.Data?.Length)));
    }

    [Fact]
    public async Task An_empty_tree_reads_back_empty()
    {
        var read = SnapshotCodec.Read(await WriteAsync(new TreeSnapshot(3, [], [])), 3);
        Assert.Empty(read.Nodes);
        Assert.Empty(read.Sessions);
    }

    [Fact]
    public void A_format_2_snapshot_from_an_earlier_release_still_reads()
    {
        var bytes = Sealed(w =>
        {
            w.WriteInt(0x4F43534E);
            w.WriteInt(2);
            w.WriteLong(7);
            w.WriteInt(2);
            foreach (var (path, acl) in new[] { ("/", Open), ("/a", Digest) })
            {
                w.WriteString(path);
                w.WriteBuffer([9]);
                Acl.WriteList(w, acl);
                (default(Stat) with { Mzxid = 7 }).Write(w);
                w.WriteBool(false);
            }

            w.WriteInt(1);
            w.WriteLong(0x55);
            w.WriteInt(6000);
            w.WriteBuffer([4, 2]);
            TxnCodec.WriteOutcomes(w, []);
        });

        var read = SnapshotCodec.Read(bytes, 7);
        Assert.Equal(["/", "/a"], read.Nodes.Select(n => n.Path));
        Assert.Equal(Digest, read.Nodes[1].Acl);
        Assert.Equal(7, read.Nodes[1].Stat.Mzxid);
        Assert.Equal(0x55, read.Sessions.Single().SessionId);
    }

    [Fact]
    public void A_format_3_snapshot_from_an_earlier_release_still_reads()
    {
        var bytes = Sealed(w =>
        {
            w.WriteInt(0x4F43534E);
            w.WriteInt(3);
            w.WriteLong(7);
            w.WriteInt(2);
            foreach (var (path, aclIndex) in new[] { ("/a", -1), ("/a/b", 0) })
            {
                w.WriteString(path);
                w.WriteBuffer([9]);
                w.WriteInt(aclIndex);
                if (aclIndex == -1)
                {
                    Acl.WriteList(w, Digest);
                }

                (default(Stat) with { Mzxid = 7, DataLength = 1 }).Write(w);
                w.WriteBool(true);
            }

            w.WriteInt(0);
            w.WriteInt(0);
        });

        var read = SnapshotCodec.Read(bytes, 7);
        Assert.Equal(["/a", "/a/b"], read.Nodes.Select(n => n.Path));
        Assert.All(read.Nodes, n => Assert.Equal((7L, true, (byte)9), (n.Stat.Mzxid, n.IsContainer, n.Data![0])));
        Assert.All(read.Nodes, n => Assert.Equal(Digest, n.Acl));
    }

    [Fact]
    public void A_chunk_that_refers_to_an_acl_list_it_never_wrote_is_damaged()
    {
        var bytes = Sealed(w =>
        {
            w.WriteInt(0x4F43534E);
            w.WriteInt(3);
            w.WriteLong(7);
            w.WriteInt(1);
            w.WriteString("/a");
            w.WriteBuffer([9]);
            w.WriteInt(0);
            default(Stat).Write(w);
            w.WriteBool(false);
            w.WriteInt(0);
            w.WriteInt(0);
        });

        var error = Assert.Throws<InvalidDataException>(() => SnapshotCodec.Read(bytes, 7));
        Assert.Contains("ACL list 0", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A snapshot's body as the writer gives it, with its CRC-32C trailer.</summary>
    private static byte[] Sealed(Action<JuteWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        body(new JuteWriter(buffer));
        var bytes = new byte[buffer.WrittenCount + 4];
        buffer.WrittenSpan.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(buffer.WrittenCount), Crc32C.Append(0, buffer.WrittenSpan));
        return bytes;
    }
}
