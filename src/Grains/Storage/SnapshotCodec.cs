using System.Buffers;
using System.Buffers.Binary;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Storage;

/// <summary>
/// The stored form of a snapshot, wherever it is kept: a header, the nodes in chunks (<see cref="SnapshotChunk"/>)
/// ended by an empty one, the sessions in jute encoding, and a trailing CRC-32C over all of it.
/// </summary>
public static class SnapshotCodec
{
    private const uint Magic = 0x4F43534E; // "OCSN"
    // Version 2 added the replies kept per session; version 3 wrote the nodes in chunks that refer to ACL lists by
    // index. Versions 1 and 2, which wrote every node's ACL and a node count up front, are still read.
    private const int FormatVersion = 3;

    /// <summary>
    /// Writes the snapshot to a stream a chunk at a time, as its nodes arrive, releasing each chunk once written;
    /// returns the number of nodes.
    /// </summary>
    public static async Task<long> WriteAsync(SnapshotContent snapshot, Stream output, CancellationToken cancellationToken)
    {
        var crc = 0u;
        var buffer = new ArrayBufferWriter<byte>(256);
        var w = new JuteWriter(buffer);
        w.WriteInt(unchecked((int)Magic));
        w.WriteInt(FormatVersion);
        w.WriteLong(snapshot.Zxid);
        Write(buffer.WrittenSpan);

        var nodes = 0L;
        await foreach (var chunk in snapshot.Nodes.WithCancellation(cancellationToken))
        {
            try
            {
                var count = BinaryPrimitives.ReadInt32BigEndian(chunk.Bytes);
                if (count > 0)
                {
                    Write(chunk.Bytes);
                    nodes += count;
                }
            }
            finally
            {
                chunk.Release();
            }
        }

        buffer.ResetWrittenCount();
        w = new JuteWriter(buffer);
        w.WriteInt(0);
        w.WriteInt(snapshot.Sessions.Count);
        foreach (var session in snapshot.Sessions)
        {
            w.WriteLong(session.SessionId);
            w.WriteInt(session.TimeoutMs);
            w.WriteBuffer(session.Password);
            TxnCodec.WriteOutcomes(w, session.Outcomes);
        }

        Write(buffer.WrittenSpan);
        var trailer = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(trailer, crc);
        output.Write(trailer);
        return nodes;

        void Write(ReadOnlySpan<byte> bytes)
        {
            crc = Crc32C.Append(crc, bytes);
            output.Write(bytes);
        }
    }

    /// <summary>Reads a snapshot back; <see cref="InvalidDataException"/> when it is damaged or not the one expected.</summary>
    public static TreeSnapshot Read(ReadOnlySpan<byte> bytes, long expectedZxid)
    {
        if (bytes.Length < 20 || BinaryPrimitives.ReadUInt32BigEndian(bytes) != Magic)
        {
            throw new InvalidDataException("not a snapshot");
        }

        var body = bytes[..^4];
        if (BinaryPrimitives.ReadUInt32BigEndian(bytes[^4..]) != Crc32C.Append(0, body))
        {
            throw new InvalidDataException("checksum mismatch");
        }

        try
        {
            var r = new JuteReader(body);
            r.ReadInt();
            var version = r.ReadInt();
            if (version is < 1 or > FormatVersion)
            {
                throw new InvalidDataException($"unknown format version {version}");
            }

            var zxid = r.ReadLong();
            if (zxid != expectedZxid)
            {
                throw new InvalidDataException($"holds zxid 0x{zxid:x}, not 0x{expectedZxid:x}");
            }

            IReadOnlyList<SnapshotNode> nodes = version < 3 ? ReadNodeList(ref r) : ReadNodeChunks(ref r);

            var sessions = new SnapshotSession[r.ReadVectorCount()];
            for (var i = 0; i < sessions.Length; i++)
            {
                sessions[i] = new SnapshotSession(r.ReadLong(), r.ReadInt(), r.ReadBuffer() ?? []);
                if (version > 1)
                {
                    sessions[i] = sessions[i] with { Outcomes = [.. TxnCodec.ReadOutcomes(ref r)] };
                }
            }

            return r.AtEnd ? new TreeSnapshot(zxid, nodes, sessions) : throw new InvalidDataException("trailing bytes");
        }
        catch (JuteException ex)
        {
            throw new InvalidDataException(ex.Message, ex);
        }
    }

    private static SnapshotNode[] ReadNodeList(ref JuteReader r)
    {
        var nodes = new SnapshotNode[r.ReadVectorCount()];
        for (var i = 0; i < nodes.Length; i++)
        {
            nodes[i] = new SnapshotNode(r.ReadRequiredString(), r.ReadBuffer(), [.. Acl.ReadList(ref r) ?? []], Stat.Read(ref r), r.ReadBool());
        }

        return nodes;
    }

    private static List<SnapshotNode> ReadNodeChunks(ref JuteReader r)
    {
        var nodes = new List<SnapshotNode>();
        var acls = new List<Acl[]>();
        for (var count = r.ReadInt(); count != 0; count = r.ReadInt())
        {
            if (count < 0)
            {
                throw new InvalidDataException($"a chunk of {count} nodes");
            }

            acls.Clear();
            for (var i = 0; i < count; i++)
            {
                var path = r.ReadRequiredString();
                var data = r.ReadBuffer();
                var aclIndex = r.ReadInt();
                if (aclIndex == -1)
                {
                    aclIndex = acls.Count;
                    acls.Add([.. Acl.ReadList(ref r) ?? []]);
                }
                else if ((uint)aclIndex >= (uint)acls.Count)
                {
                    throw new InvalidDataException($"ACL list {aclIndex} referred to before it was written");
                }

                nodes.Add(new SnapshotNode(path, data, acls[aclIndex], Stat.Read(ref r), r.ReadBool()));
            }
        }

        return nodes;
    }
}
