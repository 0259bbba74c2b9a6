using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Storage;

/// <summary>
/// The on-disk form of a txn, in jute encoding so that it stays readable by tools outside .NET and does not
/// change when the grains' wire serialization does.
/// </summary>
public static class TxnCodec
{
    public static void Write(JuteWriter w, Txn txn)
    {
        w.WriteLong(txn.Zxid);
        w.WriteLong(txn.SessionId);
        w.WriteInt(txn.Xid);
        w.WriteLong(txn.Time);
        w.WriteInt((int)txn.Type);
        w.WriteInt(txn.SessionTimeout);
        w.WriteBuffer(txn.SessionPassword);
        w.WriteInt(txn.Changes.Length);
        foreach (var change in txn.Changes)
        {
            w.WriteInt((int)change.Kind);
            w.WriteString(change.Path);
            change.Stat.Write(w);
            w.WriteBuffer(change.Data);
            var setsAcl = change.Kind is TreeChangeKind.Create or TreeChangeKind.SetAcl;
            w.WriteBool(setsAcl);
            if (setsAcl)
            {
                Acl.WriteList(w, change.Meta.Acl);
            }

            if (change.ChildPath is null)
            {
                w.WriteString(null);
            }
            else
            {
                w.WriteString(PathValidation.NameSpan(change.ChildPath));
            }

            w.WriteBool(change.Meta.IsContainer);
        }

        // Records written before replies were kept end here, so they are only added when there are some.
        if (txn.Outcomes is { Length: > 0 })
        {
            WriteOutcomes(w, txn.Outcomes);
        }
    }

    /// <summary>Replies kept for writes that may be sent again, as txns and snapshots store them.</summary>
    public static void WriteOutcomes(JuteWriter w, IReadOnlyList<WriteOutcome> outcomes)
    {
        w.WriteInt(outcomes.Count);
        for (var i = 0; i < outcomes.Count; i++)
        {
            var outcome = outcomes[i];
            w.WriteLong(outcome.Owner);
            w.WriteInt(outcome.Xid);
            w.WriteLong(outcome.Result.Zxid);
            w.WriteInt((int)outcome.Result.Err);
            w.WriteBuffer(outcome.Result.Body);
        }
    }

    public static WriteOutcome[] ReadOutcomes(ref JuteReader r)
    {
        var outcomes = new WriteOutcome[Math.Max(0, r.ReadVectorCount())];
        for (var i = 0; i < outcomes.Length; i++)
        {
            outcomes[i] = new WriteOutcome(r.ReadLong(), r.ReadInt(), new WriteResult(r.ReadLong(), (ErrorCode)r.ReadInt(), r.ReadBuffer()));
        }

        return outcomes;
    }

    public static Txn Read(ref JuteReader r)
    {
        var zxid = r.ReadLong();
        var sessionId = r.ReadLong();
        var xid = r.ReadInt();
        var time = r.ReadLong();
        var type = (OpCode)r.ReadInt();
        var timeout = r.ReadInt();
        var password = r.ReadBuffer();
        var count = r.ReadInt();
        if (count < 0 || count > r.Remaining)
        {
            throw new JuteException($"txn 0x{zxid:x} claims {count} changes");
        }

        var changes = new TreeChange[count];
        for (var i = 0; i < count; i++)
        {
            var kind = (TreeChangeKind)r.ReadInt();
            var path = r.ReadRequiredString();
            var stat = Stat.Read(ref r);
            var data = r.ReadBuffer();
            // Only the changes that set an ACL store it: the others read back with none, which recovery never asks of them.
            Acl[] acl = r.ReadBool() ? [.. Acl.ReadList(ref r) ?? []] : [];
            var child = r.ReadString();
            changes[i] = new TreeChange(kind, path, NodeMeta.Of(stat, acl, r.ReadBool()), data, child is null ? null : PathValidation.Combine(path, child));
        }

        var outcomes = r.Remaining > 0 ? ReadOutcomes(ref r) : null;
        return new Txn(zxid, sessionId, xid, time, type, changes, timeout, password, outcomes);
    }
}
