using System.Buffers;
using System.Buffers.Binary;
using System.Text;
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
    // index; version 4 shortened each node's path, ACL reference and Stat (SnapshotChunkBuilder): a znode of 100
    // bytes takes 132 bytes instead of 216. Versions 1 to 3 are still read.
    private const int FormatVersion = 4;

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

            IReadOnlyList<SnapshotNode> nodes = version switch
            {
                < 3 => ReadNodeList(ref r),
                3 => ReadNodeChunks(ref r, compact: false),
                _ => ReadNodeChunks(ref r, compact: true),
            };

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

    private static List<SnapshotNode> ReadNodeChunks(ref JuteReader r, bool compact)
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
            var lastPath = string.Empty;
            for (var i = 0; i < count; i++)
            {
                nodes.Add(compact ? ReadCompactNode(ref r, ref lastPath, acls) : ReadNode(ref r, acls));
            }
        }

        return nodes;
    }

    private static SnapshotNode ReadNode(ref JuteReader r, List<Acl[]> acls)
    {
        var path = r.ReadRequiredString();
        var data = r.ReadBuffer();
        var acl = ReadAclReference(ref r, r.ReadInt() + 1, acls);
        return new SnapshotNode(path, data, acl, Stat.Read(ref r), r.ReadBool());
    }

    /// <summary>A node as <see cref="SnapshotChunkBuilder"/> writes it.</summary>
    private static SnapshotNode ReadCompactNode(ref JuteReader r, ref string lastPath, List<Acl[]> acls)
    {
        var shared = VarInt.ReadLength(ref r, lastPath.Length);
        var suffix = r.ReadRaw(VarInt.ReadLength(ref r, r.Remaining));
        var chars = shared + Encoding.UTF8.GetCharCount(suffix);
        var path = chars <= 256 ? stackalloc char[chars] : new char[chars];
        lastPath.AsSpan(0, shared).CopyTo(path);
        Encoding.UTF8.GetChars(suffix, path[shared..]);
        lastPath = new string(path);

        var dataLengthPlusOne = VarInt.ReadLength(ref r, r.Remaining + 1);
        var data = dataLengthPlusOne == 0 ? null : r.ReadRaw(dataLengthPlusOne - 1).ToArray();
        var acl = ReadAclReference(ref r, VarInt.ReadLength(ref r, int.MaxValue), acls);
        var stat = SnapshotChunkBuilder.ReadStat(ref r, data?.Length ?? 0);
        return new SnapshotNode(lastPath, data, acl, stat, r.ReadBool());
    }

    /// <summary>An ACL list by its index plus one, or 0 when the list follows and gets the next index.</summary>
    private static Acl[] ReadAclReference(ref JuteReader r, int reference, List<Acl[]> acls)
    {
        if (reference == 0)
        {
            acls.Add([.. Acl.ReadList(ref r) ?? []]);
            return acls[^1];
        }

        return (uint)(reference - 1) < (uint)acls.Count
            ? acls[reference - 1]
            : throw new InvalidDataException($"ACL list {reference - 1} referred to before it was written");
    }
}
