using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Storage;

/// <summary>
/// Snapshots as files <c>snapshot.&lt;zxid&gt;</c> in dataDir: a header, the nodes and sessions in jute encoding,
/// and a trailing CRC-32C over all of it. Written beside the target and renamed into place once durable.
/// </summary>
public sealed partial class FileSnapshotStore(IOptions<FileStorageOptions> options, ILogger<FileSnapshotStore> logger) : ISnapshotStore
{
    private const uint Magic = 0x4F43534E; // "OCSN"
    private const int FormatVersion = 1;
    private const string Prefix = "snapshot.";
    private const int FlushAt = 1 << 20;

    private string Directory => Path.Combine(options.Value.DataDir, "snapshots");

    public Task SaveAsync(TreeSnapshot snapshot, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = ZxidFileNames.Name(Directory, Prefix, snapshot.Zxid);
        var temp = path + ".tmp";
        using (var file = File.OpenHandle(temp, FileMode.Create, FileAccess.Write))
        {
            var buffer = new ArrayBufferWriter<byte>(FlushAt + (64 * 1024));
            var crc = 0u;
            var offset = 0L;
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
            }

            Flush();
            Span<byte> trailer = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(trailer, crc);
            RandomAccess.Write(file, trailer, offset);
            NativeFile.DataSync(file);

            void Flush()
            {
                crc = Crc32C.Append(crc, buffer.WrittenSpan);
                RandomAccess.Write(file, buffer.WrittenSpan, offset);
                offset += buffer.WrittenCount;
                buffer.ResetWrittenCount();
            }
        }

        File.Move(temp, path, overwrite: true);
        NativeFile.SyncDirectory(Directory);
        LogSaved(logger, path, snapshot.Nodes.Count);
        return Task.CompletedTask;
    }

    public Task<TreeSnapshot?> LoadLatestAsync(CancellationToken cancellationToken)
    {
        var snapshots = ZxidFileNames.List(Directory, Prefix);
        for (var i = snapshots.Count - 1; i >= 0; i--)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (zxid, path) = snapshots[i];
            try
            {
                return Task.FromResult<TreeSnapshot?>(Read(File.ReadAllBytes(path), zxid));
            }
            catch (InvalidDataException ex)
            {
                // ZooKeeper too falls back to an older snapshot; the log from there covers the difference.
                LogSkipped(logger, path, ex.Message);
            }
        }

        return Task.FromResult<TreeSnapshot?>(null);
    }

    public long? Purge(int retain)
    {
        var snapshots = ZxidFileNames.List(Directory, Prefix);
        for (var i = 0; i < snapshots.Count - retain; i++)
        {
            File.Delete(snapshots[i].Path);
            LogPurged(logger, snapshots[i].Path);
        }

        return snapshots.Count == 0 ? null : snapshots[Math.Max(0, snapshots.Count - retain)].Zxid;
    }

    private static TreeSnapshot Read(byte[] bytes, long fileZxid)
    {
        if (bytes.Length < 20 || BinaryPrimitives.ReadUInt32BigEndian(bytes) != Magic)
        {
            throw new InvalidDataException("not a snapshot");
        }

        var body = bytes.AsSpan(0, bytes.Length - 4);
        if (BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(bytes.Length - 4)) != Crc32C.Append(0, body))
        {
            throw new InvalidDataException("checksum mismatch");
        }

        try
        {
            var r = new JuteReader(body);
            r.ReadInt();
            if (r.ReadInt() is var version and not FormatVersion)
            {
                throw new InvalidDataException($"unknown format version {version}");
            }

            var zxid = r.ReadLong();
            if (zxid != fileZxid)
            {
                throw new InvalidDataException($"holds zxid 0x{zxid:x}, not the one its name says");
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
            }

            return r.AtEnd ? new TreeSnapshot(zxid, nodes, sessions) : throw new InvalidDataException("trailing bytes");
        }
        catch (JuteException ex)
        {
            throw new InvalidDataException(ex.Message, ex);
        }
    }

    [LoggerMessage(EventId = 1110, Level = LogLevel.Information, Message = "Snapshot {Path} written with {NodeCount} znodes")]
    private static partial void LogSaved(ILogger logger, string path, int nodeCount);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Warning, Message = "Snapshot {Path} is unusable ({Reason}); trying an older one")]
    private static partial void LogSkipped(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 1112, Level = LogLevel.Information, Message = "Purged snapshot {Path}")]
    private static partial void LogPurged(ILogger logger, string path);
}
