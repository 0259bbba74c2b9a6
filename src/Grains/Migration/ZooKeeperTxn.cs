using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Migration;

/// <summary>
/// One txn of Apache ZooKeeper's txn log (org.apache.zookeeper.txn): the TxnHeader's zxid and time with the
/// change it made, read from its jute encoding.
/// </summary>
public abstract record ZooKeeperTxn(long Zxid, long Time)
{
    public sealed record CreateSession(long Zxid, long Time, long SessionId, int TimeoutMs) : ZooKeeperTxn(Zxid, Time);

    /// <summary>Paths is null in logs older than ZooKeeper 3.6, which did not list the ephemerals to delete.</summary>
    public sealed record CloseSession(long Zxid, long Time, long SessionId, IReadOnlyList<string>? Paths) : ZooKeeperTxn(Zxid, Time);

    /// <summary>ParentCversion is the parent's count of creates after this one; -1 in logs of ZooKeeper 3.2 and older.</summary>
    public sealed record Create(long Zxid, long Time, string Path, byte[]? Data, IReadOnlyList<Acl> Acl, long EphemeralOwner, int ParentCversion)
        : ZooKeeperTxn(Zxid, Time);

    public sealed record Delete(long Zxid, long Time, string Path) : ZooKeeperTxn(Zxid, Time);

    public sealed record SetData(long Zxid, long Time, string Path, byte[]? Data, int Version) : ZooKeeperTxn(Zxid, Time);

    public sealed record SetAcl(long Zxid, long Time, string Path, IReadOnlyList<Acl> Acl, int Version) : ZooKeeperTxn(Zxid, Time);

    /// <summary>A multi's ops; a failed multi is logged with error txns and changed nothing.</summary>
    public sealed record Multi(long Zxid, long Time, IReadOnlyList<ZooKeeperTxn> Ops, bool Failed) : ZooKeeperTxn(Zxid, Time);

    /// <summary>A txn that changes nothing in the tree: error, check, or a reconfig of ZooKeeper's own config node.</summary>
    public sealed record NoChange(long Zxid, long Time) : ZooKeeperTxn(Zxid, Time);

    /// <summary>Reads one logged txn: its TxnHeader, then its record; a trailing TxnDigest (3.6+) is ignored.</summary>
    public static ZooKeeperTxn Read(ReadOnlySpan<byte> bytes)
    {
        var r = new JuteReader(bytes);
        var sessionId = r.ReadLong();
        r.ReadInt(); // cxid
        var zxid = r.ReadLong();
        var time = r.ReadLong();
        var type = (OpCode)r.ReadInt();
        return ReadRecord(ref r, type, sessionId, zxid, time);
    }

    private static ZooKeeperTxn ReadRecord(ref JuteReader r, OpCode type, long sessionId, long zxid, long time)
    {
        switch (type)
        {
            case OpCode.CreateSession:
                return new CreateSession(zxid, time, sessionId, r.ReadInt());
            case OpCode.CloseSession:
                return new CloseSession(zxid, time, sessionId, r.AtEnd ? null : r.ReadStringList());
            case OpCode.Create or OpCode.Create2:
            {
                var (path, data, acl) = (r.ReadRequiredString(), r.ReadBuffer(), ReadAcl(ref r));
                var ephemeral = r.ReadBool();
                return new Create(zxid, time, path, data, acl, ephemeral ? sessionId : 0, r.Remaining >= 4 ? r.ReadInt() : -1);
            }

            case OpCode.CreateContainer:
            {
                var (path, data, acl) = (r.ReadRequiredString(), r.ReadBuffer(), ReadAcl(ref r));
                return new Create(zxid, time, path, data, acl, ZooKeeperTree.ContainerOwner, r.ReadInt());
            }

            case OpCode.CreateTtl:
            {
                var (path, data, acl, parentCversion) = (r.ReadRequiredString(), r.ReadBuffer(), ReadAcl(ref r), r.ReadInt());
                return new Create(zxid, time, path, data, acl, EphemeralOwners.ForTtl(r.ReadLong()), parentCversion);
            }

            case OpCode.Delete or OpCode.DeleteContainer:
                return new Delete(zxid, time, r.ReadRequiredString());
            case OpCode.SetData:
                return new SetData(zxid, time, r.ReadRequiredString(), r.ReadBuffer(), r.ReadInt());
            case OpCode.Reconfig or OpCode.Error or OpCode.Check:
                return new NoChange(zxid, time);
            case OpCode.SetAcl:
                return new SetAcl(zxid, time, r.ReadRequiredString(), ReadAcl(ref r), r.ReadInt());
            case OpCode.Multi:
            {
                var count = r.ReadVectorCount();
                var ops = new List<ZooKeeperTxn>(Math.Max(count, 0));
                var failed = false;
                for (var i = 0; i < count; i++)
                {
                    var opType = (OpCode)r.ReadInt();
                    var op = r.ReadBuffer() ?? [];
                    failed |= opType == OpCode.Error;
                    var opReader = new JuteReader(op);
                    ops.Add(ReadRecord(ref opReader, opType, sessionId, zxid, time));
                }

                return new Multi(zxid, time, ops, failed);
            }

            default:
                throw new InvalidDataException($"txn 0x{zxid:x} has type {(int)type}, which no ZooKeeper logs");
        }
    }

    private static List<Acl> ReadAcl(ref JuteReader r) => Acl.ReadList(ref r) ?? [];
}
