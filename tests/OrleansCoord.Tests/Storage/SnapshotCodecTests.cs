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

        // Each list is written once per chunk, not once per node: the nodes take less than their ACLs written out would.
        var aclBytes = written.Nodes.Sum(n => 4 + n.Acl.Sum(a => 4 + 8 + a.Id.Scheme.Length + a.Id.Identity.Length));
        var rest = written.Nodes.Sum(n => 4 + n.Path.Length + 4 + (n.Data?.Length ?? 0) + 68 + 1);
        Assert.InRange(bytes.Length, rest, rest + (aclBytes / 4));
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
