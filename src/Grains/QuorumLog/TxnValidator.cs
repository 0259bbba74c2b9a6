using System.Buffers;
using System.Globalization;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Security;
using OrleansCoord.Grains.Tree;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.QuorumLog;

/// <summary>
/// Turns a write request into a txn or an error exactly as ZooKeeper's PrepRequestProcessor does: the same
/// checks in the same order, against the metadata index plus the changes of the batch so far.
/// </summary>
public sealed class TxnValidator(MetadataIndex index, SessionTracker sessions, bool skipAcl, bool extendedTypes, QuotaTracker quotas, IReadOnlySet<string> aclSchemes)
{
    private readonly IndexOverlay _overlay = new(index);

    // The index as the quota tracker reads it, made once rather than on every write.
    private readonly Func<string, NodeMeta?> _nodeBefore = index.Get;
    private readonly Func<IEnumerable<(string Path, long DataLength)>> _dataLengths = index.DataLengths;
    private readonly List<TreeChange> _changes = [];

    // The reply being written; what a write gets back is a copy of it.
    private readonly ArrayBufferWriter<byte> _reply = new(256);

    /// <summary>Set by requests answered without a txn: sync, and a multi that failed.</summary>
    private bool _replyWithoutTxn;

    private long _batch;

    /// <summary>Starts a batch: a session's replies are kept from its latest batch with writes on.</summary>
    public void StartBatch() => _batch++;

    /// <summary>
    /// Processes one write; a txn that changes state is appended to <paramref name="txns"/>. A write its
    /// connection sent before gets the reply it got then, and changes nothing again.
    /// </summary>
    public WriteResult Process(WriteRequest request, long time, ref long lastZxid, List<Txn> txns)
    {
        // Session 0 is the server itself (container collection); every client request has a session.
        var session = request.SessionId != 0 ? sessions.Find(request.SessionId) : null;
        if (request.Type != OpCode.CloseSession && request.SessionId != 0 && session is null)
        {
            return new WriteResult(lastZxid, ErrorCode.SessionExpired, null);
        }

        // Writes with an owner come from a client connection; expiry and container collection have none.
        if (request.Owner != 0 && session is not null)
        {
            if (request.Owner < session.Owner)
            {
                return new WriteResult(lastZxid, ErrorCode.SessionMoved, null);
            }

            // After a restart nobody holds the session until one of its connections writes.
            session.Owner = request.Owner;
            if (session.FindOutcome(request.Owner, request.Xid) is { } earlier)
            {
                return earlier;
            }
        }
        else
        {
            session = null;
        }

        var result = ProcessNew(request, ref lastZxid, time, out var changes);
        session?.Record(_batch, new WriteOutcome(request.Owner, request.Xid, result));
        if (changes is not null)
        {
            txns.Add(new Txn(result.Zxid, request.SessionId, request.Xid, time, request.Type, changes, Outcomes: session?.TakeUnlogged()));
        }

        return result;
    }

    /// <summary>Validates a write not seen before; <paramref name="changes"/> is its txn's changes, or null when it makes none.</summary>
    private WriteResult ProcessNew(WriteRequest request, ref long lastZxid, long time, out TreeChange[]? changes)
    {
        changes = null;
        var zxid = lastZxid + 1;
        _changes.Clear();
        _replyWithoutTxn = false;
        var output = _reply;
        output.ResetWrittenCount();
        var writer = new JuteWriter(output);
        ErrorCode err;
        try
        {
            err = request.Type switch
            {
                OpCode.Multi => PrepareMulti(request, zxid, time, writer),
                OpCode.Sync => PrepareSync(request, writer),
                OpCode.CloseSession => PrepareCloseSession(request.SessionId, zxid),
                OpCode.SetAcl => PrepareSetAcl(request, zxid, writer),
                OpCode.DeleteContainer => PrepareDeleteContainer(request, zxid),
                OpCode.Reconfig when request.SessionId == 0 => PrepareConfig(request, zxid, time),
                _ => PrepareSingle(request, zxid, time, writer),
            };
        }
        catch (JuteException)
        {
            err = ErrorCode.MarshallingError;
        }

        if (err != ErrorCode.Ok)
        {
            _overlay.Rollback();
            return new WriteResult(lastZxid, err, null);
        }

        if (_replyWithoutTxn)
        {
            return new WriteResult(lastZxid, ErrorCode.Ok, output.WrittenSpan.ToArray());
        }

        quotas.Apply(_changes, _nodeBefore, _dataLengths);
        _overlay.Commit(sessions);
        if (request.Type == OpCode.CloseSession)
        {
            sessions.Remove(request.SessionId);
        }

        lastZxid = zxid;
        changes = [.. _changes];
        return new WriteResult(zxid, ErrorCode.Ok, output.WrittenCount == 0 ? null : output.WrittenSpan.ToArray());
    }

    /// <summary>Opens a session as a txn: it takes a zxid but changes no node.</summary>
    public static Txn CreateSession(SessionTracker.Session session, long time, ref long lastZxid)
    {
        lastZxid++;
        return new Txn(lastZxid, session.Id, 0, time, OpCode.CreateSession, [], session.TimeoutMs, session.Password);
    }

    private ErrorCode PrepareSingle(WriteRequest request, long zxid, long time, JuteWriter writer)
    {
        if (request.Type is not (OpCode.Create or OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl or OpCode.Delete or OpCode.DeleteContainer or OpCode.SetData))
        {
            return ErrorCode.Unimplemented;
        }

        var reader = new JuteReader(request.Body);
        var op = MultiOp.Read(ref reader, request.Type);
        var err = Prepare(op, request, zxid, time, out var path, out var stat);
        if (err == ErrorCode.Ok)
        {
            MultiResult.WriteBody(writer, op.Type, ErrorCode.Ok, path, stat);
        }

        return err;
    }

    private ErrorCode PrepareMulti(WriteRequest request, long zxid, long time, JuteWriter writer)
    {
        var reader = new JuteReader(request.Body);
        var multi = MultiRequest.Read(ref reader);
        var results = new List<MultiResult>(multi.Ops.Count);
        var failedAt = -1;
        var failure = ErrorCode.Ok;
        for (var i = 0; i < multi.Ops.Count; i++)
        {
            var op = multi.Ops[i];
            string? path = null;
            Stat stat = default;
            var err = op.Type is OpCode.Create or OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl or OpCode.Delete or OpCode.SetData or OpCode.Check
                ? Prepare(op, request, zxid, time, out path, out stat)
                : ErrorCode.Unimplemented;
            if (err != ErrorCode.Ok)
            {
                failedAt = i;
                failure = err;
                break;
            }

            results.Add(new MultiResult(MultiResultType(op), Path: path, Stat: stat));
        }

        if (failedAt >= 0)
        {
            // A failed multi changes nothing: ops before the failure report 0, after it RUNTIMEINCONSISTENCY.
            _overlay.Rollback();
            _changes.Clear();
            results.Clear();
            for (var i = 0; i < multi.Ops.Count; i++)
            {
                results.Add(MultiResult.Error(i < failedAt ? ErrorCode.Ok : i == failedAt ? failure : ErrorCode.RuntimeInconsistency));
            }

            _replyWithoutTxn = true;
        }

        new MultiResponse(results).Write(writer);
        return ErrorCode.Ok;
    }

    /// <summary>
    /// The type a multi reports for an op. ZooKeeper reads every create op of a multi as create, createContainer or
    /// createTTL by its mode, and answers the last two as create2 (path and stat), the first with the path alone.
    /// </summary>
    private static OpCode MultiResultType(MultiOp op) =>
        op.Type is OpCode.Create or OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl
            ? ((CreateMode)op.Flags is var mode && (mode.IsTtl() || mode.IsContainer()) ? OpCode.Create2 : OpCode.Create)
            : op.Type;

    private ErrorCode PrepareSync(WriteRequest request, JuteWriter writer)
    {
        _replyWithoutTxn = true;
        var reader = new JuteReader(request.Body);
        writer.WriteString(PathRequest.Read(ref reader).Path);
        return ErrorCode.Ok;
    }

    private ErrorCode PrepareCloseSession(long sessionId, long zxid)
    {
        var session = sessions.Find(sessionId);
        if (session is null)
        {
            return ErrorCode.Ok;
        }

        foreach (var path in session.Ephemerals)
        {
            var node = _overlay.Get(path);
            if (node is not null)
            {
                Delete(path, node, zxid);
            }
        }

        return ErrorCode.Ok;
    }

    private ErrorCode PrepareSetAcl(WriteRequest request, long zxid, JuteWriter writer)
    {
        var reader = new JuteReader(request.Body);
        var setAcl = SetAclRequest.Read(ref reader);
        if (PathValidation.Validate(setAcl.Path) is not null)
        {
            return ErrorCode.BadArguments;
        }

        var acl = AclChecker.Fixup(setAcl.Acl, request.AuthIds, aclSchemes);
        if (acl is null)
        {
            return ErrorCode.InvalidAcl;
        }

        var node = _overlay.Get(setAcl.Path);
        if (node is null)
        {
            return ErrorCode.NoNode;
        }

        if (!AclChecker.IsAllowed(node.Acl, request.AuthIds, Perms.Admin, skipAcl))
        {
            return ErrorCode.NoAuth;
        }

        if (setAcl.Version != -1 && setAcl.Version != node.Stat.Aversion)
        {
            return ErrorCode.BadVersion;
        }

        var stat = node.Stat with { Aversion = node.Stat.Aversion + 1 };
        var meta = node with { Stat = stat, Acl = acl };
        _overlay.Set(setAcl.Path, meta);
        _changes.Add(new TreeChange(TreeChangeKind.SetAcl, setAcl.Path, meta));
        stat.ForClient().Write(writer);
        return ErrorCode.Ok;
    }

    private ErrorCode Prepare(MultiOp op, WriteRequest request, long zxid, long time, out string? resultPath, out Stat resultStat)
    {
        resultPath = null;
        resultStat = default;
        switch (op.Type)
        {
            case OpCode.Create or OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl:
                return PrepareCreate(op, request, zxid, time, out resultPath, out resultStat);
            case OpCode.Delete:
                return PrepareDelete(op, request, zxid);
            case OpCode.SetData:
                return PrepareSetData(op, request, zxid, time, out resultStat);
            case OpCode.Check:
                return PrepareCheck(op, request);
            default:
                return ErrorCode.Unimplemented;
        }
    }

    private ErrorCode PrepareCreate(MultiOp op, WriteRequest request, long zxid, long time, out string? resultPath, out Stat resultStat)
    {
        resultPath = null;
        resultStat = default;
        if (!CreateModes.IsKnown(op.Flags))
        {
            return ErrorCode.BadArguments;
        }

        var mode = (CreateMode)op.Flags;
        if (mode.IsTtl() && !extendedTypes)
        {
            return ErrorCode.Unimplemented;
        }

        // EphemeralType.validateTTL: a TTL mode needs a TTL in 1..MaxTtl, and only createTTL may carry one. ZooKeeper
        // also takes createTTL of another mode with a negative TTL, then fails to apply it: that is refused here.
        var ttl = op.Type == OpCode.CreateTtl ? op.Ttl : -1;
        if (mode.IsTtl() ? ttl is <= 0 or > EphemeralOwners.MaxTtl : op.Type == OpCode.CreateTtl)
        {
            return ErrorCode.BadArguments;
        }

        var path = op.Path;
        if (PathValidation.Validate(path, mode.IsSequential()) is not null)
        {
            return ErrorCode.BadArguments;
        }

        var acl = AclChecker.Fixup(op.Acl, request.AuthIds, aclSchemes);
        if (acl is null)
        {
            return ErrorCode.InvalidAcl;
        }

        var parent = _overlay.GetParent(path, out var parentPath);
        if (parent is null)
        {
            return ErrorCode.NoNode;
        }

        if (!AclChecker.IsAllowed(parent.Acl, request.AuthIds, Perms.Create, skipAcl))
        {
            return ErrorCode.NoAuth;
        }

        if (mode.IsSequential())
        {
            path += FormatSequence(parent.CreateCount);
        }

        if (PathValidation.Validate(path) is not null)
        {
            return ErrorCode.BadArguments;
        }

        if (_overlay.Get(path) is not null)
        {
            return ErrorCode.NodeExists;
        }

        if (EphemeralOwners.IsSession(parent.Stat.EphemeralOwner, extendedTypes))
        {
            return ErrorCode.NoChildrenForEphemerals;
        }

        if (quotas.Check(path, op.Data?.Length ?? 0, 1) is { } overQuota)
        {
            return overQuota;
        }

        // A TTL node's owner carries its TTL, so that the log and snapshots keep it; clients are shown 0.
        var owner = mode.IsTtl() ? EphemeralOwners.ForTtl(ttl) : mode.IsEphemeral() ? request.SessionId : 0;
        var stat = new Stat(zxid, zxid, time, time, 0, 0, 0, owner, op.Data?.Length ?? 0, 0, zxid);
        var createCount = parent.CreateCount + 1;
        var numChildren = parent.Stat.NumChildren + 1;
        var meta = NodeMeta.Of(stat, acl, mode.IsContainer());
        var parentMeta = parent with { Stat = parent.Stat with { Cversion = (2 * createCount) - numChildren, NumChildren = numChildren, Pzxid = zxid } };
        _overlay.Set(path, meta);
        _overlay.Set(parentPath!, parentMeta);
        _changes.Add(new TreeChange(TreeChangeKind.Create, path, meta, op.Data));
        _changes.Add(new TreeChange(TreeChangeKind.ChildAdded, parentPath!, parentMeta, ChildPath: path));
        resultPath = path;
        resultStat = stat.ForClient();
        return ErrorCode.Ok;
    }

    private ErrorCode PrepareDelete(MultiOp op, WriteRequest request, long zxid)
    {
        var path = op.Path;
        if (PathValidation.Validate(path) is not null || BuiltInNodes.IsSpecial(path))
        {
            return ErrorCode.BadArguments;
        }

        // ZooKeeper checks DELETE on the parent before it looks the node up: a missing child under a
        // parent the caller may not delete from is NOAUTH, not NONODE.
        var parent = _overlay.GetParent(path, out var parentPath);
        if (parent is null)
        {
            return ErrorCode.NoNode;
        }

        if (!AclChecker.IsAllowed(parent.Acl, request.AuthIds, Perms.Delete, skipAcl))
        {
            return ErrorCode.NoAuth;
        }

        var node = _overlay.Get(path);
        if (node is null)
        {
            return ErrorCode.NoNode;
        }

        if (op.Version != -1 && op.Version != node.Stat.Version)
        {
            return ErrorCode.BadVersion;
        }

        if (node.Stat.NumChildren > 0)
        {
            return ErrorCode.NotEmpty;
        }

        Delete(path, node, zxid, parentPath!, parent);
        return ErrorCode.Ok;
    }

    private void Delete(string path, NodeMeta node, long zxid)
    {
        var parent = _overlay.GetParent(path, out var parentPath)!;
        Delete(path, node, zxid, parentPath!, parent);
    }

    private void Delete(string path, NodeMeta node, long zxid, string parentPath, NodeMeta parent)
    {
        var numChildren = parent.Stat.NumChildren - 1;
        var parentMeta = parent with { Stat = parent.Stat with { Cversion = (2 * parent.CreateCount) - numChildren, NumChildren = numChildren, Pzxid = zxid } };
        _overlay.Set(path, null);
        _overlay.Set(parentPath, parentMeta);
        _changes.Add(new TreeChange(TreeChangeKind.Delete, path, node));
        _changes.Add(new TreeChange(TreeChangeKind.ChildRemoved, parentPath, parentMeta, ChildPath: path));
    }

    private ErrorCode PrepareDeleteContainer(WriteRequest request, long zxid)
    {
        // ZooKeeper 3.8.0 answers every client-sent deleteContainer with BADARGUMENTS (measured by
        // WireDifferentialTests); only the server's own container collection (session 0) uses it.
        if (request.SessionId != 0)
        {
            return ErrorCode.BadArguments;
        }

        var path = System.Text.Encoding.UTF8.GetString(request.Body);
        if (PathValidation.Validate(path) is not null || BuiltInNodes.IsSpecial(path))
        {
            return ErrorCode.BadArguments;
        }

        var node = _overlay.Get(path);
        if (node is null || _overlay.Get(PathValidation.Parent(path)) is null)
        {
            return ErrorCode.NoNode;
        }

        if (node.Stat.NumChildren > 0)
        {
            return ErrorCode.NotEmpty;
        }

        // ZooKeeper refuses to delete anything but a container or TTL node this way with BADVERSION.
        if (!node.IsContainer && !(extendedTypes && EphemeralOwners.IsTtl(node.Stat.EphemeralOwner)))
        {
            return ErrorCode.BadVersion;
        }

        Delete(path, node, zxid);
        return ErrorCode.Ok;
    }

    /// <summary>
    /// The server's own rewrite of /zookeeper/config (session 0; clients' reconfig never gets here): the servers' lines
    /// and the version line ZooKeeper ends it with, the txn's zxid in hex. The node's ACL, read-only to all, is not asked.
    /// </summary>
    private ErrorCode PrepareConfig(WriteRequest request, long zxid, long time)
    {
        var node = _overlay.Get(BuiltInNodes.Config)!;
        var data = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(request.Body) + "version=" + zxid.ToString("x", CultureInfo.InvariantCulture));
        var meta = node with { Stat = node.Stat with { Mzxid = zxid, Mtime = time, Version = node.Stat.Version + 1, DataLength = data.Length } };
        _overlay.Set(BuiltInNodes.Config, meta);
        _changes.Add(new TreeChange(TreeChangeKind.SetData, BuiltInNodes.Config, meta, data));
        return ErrorCode.Ok;
    }

    private ErrorCode PrepareSetData(MultiOp op, WriteRequest request, long zxid, long time, out Stat resultStat)
    {
        resultStat = default;
        var path = op.Path;
        if (PathValidation.Validate(path) is not null)
        {
            return ErrorCode.BadArguments;
        }

        var node = _overlay.Get(path);
        if (node is null)
        {
            return ErrorCode.NoNode;
        }

        if (!AclChecker.IsAllowed(node.Acl, request.AuthIds, Perms.Write, skipAcl))
        {
            return ErrorCode.NoAuth;
        }

        if (quotas.Check(path, (op.Data?.Length ?? 0) - node.Stat.DataLength, 0) is { } overQuota)
        {
            return overQuota;
        }

        if (op.Version != -1 && op.Version != node.Stat.Version)
        {
            return ErrorCode.BadVersion;
        }

        var meta = node with { Stat = node.Stat with { Mzxid = zxid, Mtime = time, Version = node.Stat.Version + 1, DataLength = op.Data?.Length ?? 0 } };
        _overlay.Set(path, meta);
        _changes.Add(new TreeChange(TreeChangeKind.SetData, path, meta, op.Data));
        resultStat = meta.Stat.ForClient();
        return ErrorCode.Ok;
    }

    private ErrorCode PrepareCheck(MultiOp op, WriteRequest request)
    {
        if (PathValidation.Validate(op.Path) is not null)
        {
            return ErrorCode.BadArguments;
        }

        var node = _overlay.Get(op.Path);
        if (node is null)
        {
            return ErrorCode.NoNode;
        }

        if (!AclChecker.IsAllowed(node.Acl, request.AuthIds, Perms.Read, skipAcl))
        {
            return ErrorCode.NoAuth;
        }

        return op.Version != -1 && op.Version != node.Stat.Version ? ErrorCode.BadVersion : ErrorCode.Ok;
    }

    /// <summary>Java's String.format("%010d", n): ten characters, the sign counting as one of them.</summary>
    public static string FormatSequence(int counter) =>
        counter >= 0 ? counter.ToString("D10", CultureInfo.InvariantCulture) : "-" + (-(long)counter).ToString("D9", CultureInfo.InvariantCulture);
}
