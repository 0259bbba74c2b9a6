using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Bench;

/// <summary>Writes the requests one session of a workload sends, each with its request header.</summary>
public interface IRequestSource
{
    /// <summary>Writes the next request with this xid; false when the source has no more.</summary>
    bool TryWrite(JuteWriter w, int xid, out OpKind kind);
}

/// <summary>
/// Creates nodes named prefix0, prefix1, ... (all of them, or up to a budget), or deletes them again: the same
/// names in the same order.
/// </summary>
public sealed class NumberedSource(OpCode type, string prefix, byte[] data, CreateMode mode = CreateMode.Persistent, long budget = long.MaxValue) : IRequestSource
{
    private long _next;

    /// <summary>The requests written so far, numbered from 0.</summary>
    public long Issued => _next;

    public bool TryWrite(JuteWriter w, int xid, out OpKind kind)
    {
        kind = OpKind.Write;
        if (_next >= budget)
        {
            return false;
        }

        new RequestHeader(xid, type).Write(w);
        w.WriteString(prefix + _next++);
        if (type == OpCode.Create)
        {
            w.WriteBuffer(data);
            Acl.WriteList(w, Acl.OpenAclUnsafe);
            w.WriteInt((int)mode);
        }
        else
        {
            w.WriteInt(-1);
        }

        return true;
    }
}

/// <summary>
/// Reads and writes on random existing nodes: setData for the given share of requests, and the read
/// operation for the rest.
/// </summary>
public sealed class KeyedSource(string[] paths, OpCode read, int writePercent, byte[] data, int seed) : IRequestSource
{
    private readonly Random _random = new(seed);

    public bool TryWrite(JuteWriter w, int xid, out OpKind kind)
    {
        var path = paths[_random.Next(paths.Length)];
        if (writePercent > 0 && _random.Next(100) < writePercent)
        {
            kind = OpKind.Write;
            new RequestHeader(xid, OpCode.SetData).Write(w);
            w.WriteString(path);
            w.WriteBuffer(data);
            w.WriteInt(-1);
            return true;
        }

        kind = OpKind.Read;
        new RequestHeader(xid, read).Write(w);
        w.WriteString(path);
        w.WriteBool(false);
        return true;
    }
}
