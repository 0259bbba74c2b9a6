using System.Buffers;
using System.Buffers.Binary;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Storage;

/// <summary>
/// The stored form of a snapshot, wherever it is kept: a header, the nodes and sessions in jute encoding, and a
/// trailing CRC-32C over all of it.
/// </summary>
public static class SnapshotCodec
{
    private const uint Magic = 0x4F43534E; // "OCSN"
    // Version 2 added the replies kept per session; version 1 snapshots are still read.
    private const int FormatVersion = 2;
    private const int FlushAt = 1 << 20;

    /// <summary>Writes the snapshot to a stream in chunks, so a large tree never needs one buffer of its size.</summary>
    public static void Write(TreeSnapshot snapshot, Stream output, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(FlushAt + (64 * 1024));
        var crc = 0u;
        var w = new JuteWriter(buffer);
        w.WriteInt(unchecked((int)Magic));
        w.WriteInt(FormatVersion);
        w.WriteLong(snapshot.Zxid);
        w.WriteInt(snapshot.Nodes.Count);
        foreach (var node in snapshot.Nodes)
        {
            w.WriteString(node.Path);
            w.WriteBuffer(node.Data);
            Acl.WriteList(w, node.Acl);
            node.Stat.Write(w);
            w.WriteBool(node.IsContainer);
            if (buffer.WrittenCount >= FlushAt)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Flush();
            }
        }

        w.WriteInt(snapshot.Sessions.Count);
        foreach (var session in snapshot.Sessions)
        {
            w.WriteLong(session.SessionId);
            w.WriteInt(session.TimeoutMs);
            w.WriteBuffer(session.Password);
            TxnCodec.WriteOutcomes(w, session.Outcomes);
        }

        Flush();
        Span<byte> trailer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(trailer, crc);
        output.Write(trailer);

        void Flush()
        {
            crc = Crc32C.Append(crc, buffer.WrittenSpan);
            output.Write(buffer.WrittenSpan);
            buffer.ResetWrittenCount();
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
            if (version is not (1 or FormatVersion))
            {
                throw new InvalidDataException($"unknown format version {version}");
            }

            var zxid = r.ReadLong();
            if (zxid != expectedZxid)
            {
                throw new InvalidDataException($"holds zxid 0x{zxid:x}, not 0x{expectedZxid:x}");
            }

            var nodes = new SnapshotNode[r.ReadVectorCount()];
            for (var i = 0; i < nodes.Length; i++)
            {
                nodes[i] = new SnapshotNode(r.ReadRequiredString(), r.ReadBuffer(), [.. Acl.ReadList(ref r) ?? []], Stat.Read(ref r), r.ReadBool());
            }

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
}
