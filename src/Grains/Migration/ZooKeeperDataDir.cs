using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Migration;

/// <summary>What was read from an Apache ZooKeeper data directory.</summary>
public sealed record ZooKeeperImage(ZooKeeperTree Tree, string? Snapshot, long SnapshotZxid, int LogFiles, int TxnsReplayed, IReadOnlyList<string> Skipped);

/// <summary>
/// Reads Apache ZooKeeper's dataDir and dataLogDir (their <c>version-2</c> folders) the way ZooKeeper restores
/// from them: the newest snapshot whose checksum holds (plain or gzip), then every logged txn after it.
/// </summary>
public static class ZooKeeperDataDir
{
    private const int SnapshotMagic = 0x5A4B534E; // "ZKSN"
    private const int TxnLogMagic = 0x5A4B4C47; // "ZKLG"
    private const int FileHeaderLength = 16;
    private const byte EndOfRecord = (byte)'B';

    public static ZooKeeperImage Read(string dataDir, string? dataLogDir, CancellationToken cancellationToken)
    {
        var snapDir = VersionDirectory(dataDir);
        var logDir = VersionDirectory(dataLogDir ?? dataDir);
        var skipped = new List<string>();
        ZooKeeperTree? tree = null;
        string? snapshot = null;
        foreach (var (zxid, path) in Files(snapDir, "snapshot.").OrderByDescending(f => f.Zxid))
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                tree = ReadSnapshot(path, zxid);
                snapshot = path;
                break;
            }
            catch (Exception ex) when (ex is InvalidDataException or JuteException or NotSupportedException)
            {
                // As ZooKeeper does, an unreadable snapshot (one cut short by a crash) gives way to the one before.
                skipped.Add($"{path}: {ex.Message}");
            }
        }

        tree ??= InitialTree();
        var snapshotZxid = tree.Zxid;
        var logs = Files(logDir, "log.").OrderBy(f => f.Zxid).ToList();
        var replayed = 0;
        for (var i = 0; i < logs.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // A log whose successor starts at or before the snapshot holds nothing after it.
            if (i + 1 < logs.Count && logs[i + 1].Zxid <= snapshotZxid + 1)
            {
                continue;
            }

            foreach (var txn in ReadLog(logs[i].Path))
            {
                if (txn.Zxid > snapshotZxid)
                {
                    tree.Apply(txn);
                    replayed++;
                }
            }
        }

        return new ZooKeeperImage(tree, snapshot, snapshotZxid, logs.Count, replayed, skipped);
    }

    /// <summary>The folder ZooKeeper keeps its files in under a dataDir (version-2), or the folder itself.</summary>
    private static string VersionDirectory(string directory)
    {
        var version2 = Path.Combine(directory, "version-2");
        if (Directory.Exists(version2))
        {
            return version2;
        }

        return Directory.Exists(directory)
            ? directory
            : throw new DirectoryNotFoundException($"ZooKeeper data directory {directory} does not exist");
    }

    private static IEnumerable<(long Zxid, string Path)> Files(string directory, string prefix)
    {
        foreach (var path in Directory.EnumerateFiles(directory, prefix + "*"))
        {
            var name = Path.GetFileName(path)[prefix.Length..];
            var dot = name.IndexOf('.', StringComparison.Ordinal);
            if (long.TryParse(dot < 0 ? name : name[..dot], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var zxid))
            {
                yield return (zxid, path);
            }
        }
    }

    private static ZooKeeperTree InitialTree()
    {
        // What ZooKeeper's DataTree holds before its first txn, for a data directory without a snapshot.
        var tree = new ZooKeeperTree();
        foreach (var path in new[] { "", "/zookeeper", "/zookeeper/quota", "/zookeeper/config" })
        {
            tree.Load(path, null, Acl.OpenAclUnsafe, default);
        }

        return tree;
    }

    private static ZooKeeperTree ReadSnapshot(string path, long zxid)
    {
        var bytes = path.EndsWith(".gz", StringComparison.Ordinal) ? Gunzip(path)
            : path.EndsWith(".snappy", StringComparison.Ordinal) ? throw new NotSupportedException("snappy snapshots are not read; let ZooKeeper write a plain one (zookeeper.snapshot.compression.method=)")
            : File.ReadAllBytes(path);
        var r = new JuteReader(bytes);
        ReadFileHeader(ref r, SnapshotMagic);
        var tree = new ZooKeeperTree { Zxid = zxid };
        for (var sessions = r.ReadInt(); sessions > 0; sessions--)
        {
            tree.Sessions[r.ReadLong()] = r.ReadInt();
        }

        // ZooKeeper shares ACL lists between nodes by index; -1 is its open ACL.
        var acls = new Dictionary<long, IReadOnlyList<Acl>> { [-1] = Acl.OpenAclUnsafe };
        for (var count = r.ReadInt(); count > 0; count--)
        {
            var index = r.ReadLong();
            acls[index] = Acl.ReadList(ref r) ?? [];
        }

        for (var node = r.ReadRequiredString(); node != "/"; node = r.ReadRequiredString())
        {
            var data = r.ReadBuffer();
            var aclIndex = r.ReadLong();
            var stat = new ZooKeeperTree.StoredStat(
                r.ReadLong(), r.ReadLong(), r.ReadLong(), r.ReadLong(), r.ReadInt(), r.ReadInt(), r.ReadInt(), r.ReadLong(), r.ReadLong());
            var acl = acls.GetValueOrDefault(aclIndex) ?? throw new InvalidDataException($"{node} names ACL {aclIndex}, which the snapshot does not hold");
            tree.Load(node, data, acl, stat);
        }

        var checksum = Adler32.Append(Adler32.Initial, bytes.AsSpan(0, r.Position));
        if (r.ReadLong() != checksum)
        {
            throw new InvalidDataException("checksum mismatch");
        }

        return tree;
    }

    private static byte[] Gunzip(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var bytes = new MemoryStream();
        gzip.CopyTo(bytes);
        return bytes.ToArray();
    }

    /// <summary>
    /// The txns of one log file. Preallocated zeros or a record cut short end it, as they end ZooKeeper's reading;
    /// a record whose checksum fails is refused, as ZooKeeper refuses to start on it.
    /// </summary>
    private static List<ZooKeeperTxn> ReadLog(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var header = new JuteReader(bytes);
        ReadFileHeader(ref header, TxnLogMagic);
        var txns = new List<ZooKeeperTxn>();
        var offset = FileHeaderLength;
        while (offset + 12 <= bytes.Length)
        {
            var crc = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(offset));
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(offset + 8));
            var start = offset + 12;
            if (length <= 0 || length > bytes.Length - start - 1 || bytes[start + length] != EndOfRecord)
            {
                break;
            }

            var record = bytes.AsSpan(start, length);
            if (crc != Adler32.Append(Adler32.Initial, record))
            {
                throw new InvalidDataException($"{path}: txn at offset {offset} fails its checksum");
            }

            try
            {
                txns.Add(ZooKeeperTxn.Read(record));
            }
            catch (JuteException ex)
            {
                throw new InvalidDataException($"{path}: txn at offset {offset} does not parse: {ex.Message}", ex);
            }

            offset = start + length + 1;
        }

        return txns;
    }

    private static void ReadFileHeader(ref JuteReader r, int magic)
    {
        if (r.Remaining < FileHeaderLength || r.ReadInt() != magic)
        {
            throw new InvalidDataException("not a ZooKeeper file: wrong magic");
        }

        var version = r.ReadInt();
        if (version != 2)
        {
            throw new InvalidDataException($"format version {version}; ZooKeeper 3.x writes 2");
        }

        r.ReadLong(); // dbid
    }
}
