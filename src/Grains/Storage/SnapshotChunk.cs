using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Storage;

/// <summary>
/// A run of znodes in a snapshot's stored form (<see cref="SnapshotCodec"/>), in a pooled buffer that whoever writes
/// it out releases. <see cref="Next"/> is where the subtree's export goes on, or -1 once it is complete.
/// </summary>
[GenerateSerializer, Immutable]
public readonly record struct SnapshotChunk([property: Id(0)] byte[] Buffer, [property: Id(1)] int Length, [property: Id(2)] int Next)
{
    public ReadOnlySpan<byte> Bytes => Buffer.AsSpan(0, Length);

    /// <summary>Hands the buffer back to the pool; the chunk is not used afterwards.</summary>
    public void Release() => ArrayPool<byte>.Shared.Return(Buffer);
}

/// <summary>
/// Encodes znodes into a <see cref="SnapshotChunk"/>: the node count, then each node with its path as the part it
/// does not share with the node before, its ACL list written the first time the chunk meets it and referred to by
/// index after that (nodes share a handful of lists), and its Stat mostly as small differences (a znode's zxids and
/// times are usually equal, its versions small).
/// </summary>
public sealed class SnapshotChunkBuilder : IBufferWriter<byte>
{
    /// <summary>A chunk stops taking nodes past this size: small enough to stay off the large-object heap and a turn short.</summary>
    public const int TargetBytes = 60 * 1024;

    // czxid and ctime in full, nine other Stat fields as differences, and the container flag.
    private const int NodeTailBytes = 8 + 8 + (9 * VarInt.MaxBytes) + 1;

    private readonly Dictionary<Acl[], int> _acls = new(ReferenceEqualityComparer.Instance);
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private int _length = 4;
    private int _count;
    private string _lastPath = string.Empty;
    private Acl[]? _lastAcl;
    private int _lastAclIndex;

    public bool IsFull => _length >= TargetBytes;

    public void Add(string path, byte[]? data, NodeMeta meta)
    {
        // Nodes come in the order they were created, so a node mostly shares its parent's path with the one before.
        var shared = path.AsSpan().CommonPrefixLength(_lastPath);
        if (shared > 0 && char.IsHighSurrogate(path[shared - 1]))
        {
            shared--;
        }

        var suffix = path.AsSpan(shared);
        var suffixLength = Encoding.UTF8.GetByteCount(suffix);
        var dataLength = data?.Length ?? 0;
        var span = GetSpan((4 * VarInt.MaxBytes) + suffixLength + dataLength);
        var at = VarInt.Write(span, (uint)shared);
        at += VarInt.Write(span[at..], (uint)suffixLength);
        at += Encoding.UTF8.GetBytes(suffix, span[at..]);
        at += VarInt.Write(span[at..], data is null ? 0 : (uint)dataLength + 1);
        data.AsSpan().CopyTo(span[at..]);
        at += dataLength;
        _lastPath = path;

        var acl = meta.Acl;
        if (!ReferenceEquals(acl, _lastAcl))
        {
            if (!_acls.TryGetValue(acl, out _lastAclIndex))
            {
                _lastAclIndex = -1;
            }

            _lastAcl = acl;
        }

        // 0: the list follows, and the index it gets is the next one; otherwise the index plus one.
        at += VarInt.Write(span[at..], (uint)(_lastAclIndex + 1));
        Advance(at);
        if (_lastAclIndex < 0)
        {
            Acl.WriteList(new JuteWriter(this), acl);
            _lastAclIndex = _acls.Count;
            _acls.Add(acl, _lastAclIndex);
        }

        span = GetSpan(NodeTailBytes);
        at = WriteStat(span, meta.Stat, dataLength);
        span[at] = meta.IsContainer ? (byte)1 : (byte)0;
        Advance(at + 1);
        _count++;
    }

    /// <summary>Ends the chunk and hands its buffer over; the builder is not used afterwards.</summary>
    public SnapshotChunk ToChunk(int next)
    {
        BinaryPrimitives.WriteInt32BigEndian(_buffer, _count);
        var chunk = new SnapshotChunk(_buffer, _length, next);
        _buffer = [];
        return chunk;
    }

    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_length);
    }

    private void Reserve(int sizeHint)
    {
        if (_buffer.Length - _length >= Math.Max(sizeHint, 1))
        {
            return;
        }

        // Only a node larger than a chunk gets here: the buffer grows to hold it.
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + sizeHint));
        _buffer.AsSpan(0, _length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }

    private static int WriteStat(Span<byte> span, in Stat stat, int dataLength)
    {
        BinaryPrimitives.WriteInt64BigEndian(span, stat.Czxid);
        BinaryPrimitives.WriteInt64BigEndian(span[8..], stat.Ctime);
        var at = 16;
        at += VarInt.WriteSigned(span[at..], unchecked(stat.Mzxid - stat.Czxid));
        at += VarInt.WriteSigned(span[at..], unchecked(stat.Pzxid - stat.Czxid));
        at += VarInt.WriteSigned(span[at..], unchecked(stat.Mtime - stat.Ctime));
        at += VarInt.WriteSigned(span[at..], stat.Version);
        at += VarInt.WriteSigned(span[at..], stat.Cversion);
        at += VarInt.WriteSigned(span[at..], stat.Aversion);
        at += VarInt.WriteSigned(span[at..], stat.EphemeralOwner);
        at += VarInt.WriteSigned(span[at..], (long)stat.DataLength - dataLength);
        at += VarInt.WriteSigned(span[at..], stat.NumChildren);
        return at;
    }

    /// <summary>Reads back a Stat that <see cref="WriteStat"/> wrote.</summary>
    internal static Stat ReadStat(ref JuteReader r, int dataLength)
    {
        var czxid = r.ReadLong();
        var ctime = r.ReadLong();
        var mzxid = unchecked(czxid + VarInt.ReadSigned(ref r));
        var pzxid = unchecked(czxid + VarInt.ReadSigned(ref r));
        var mtime = unchecked(ctime + VarInt.ReadSigned(ref r));
        var version = ReadInt(ref r);
        var cversion = ReadInt(ref r);
        var aversion = ReadInt(ref r);
        var ephemeralOwner = VarInt.ReadSigned(ref r);
        var statDataLength = ReadInt(ref r, dataLength);
        var numChildren = ReadInt(ref r);
        return new Stat(czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner, statDataLength, numChildren, pzxid);

        static int ReadInt(ref JuteReader r, long offset = 0) =>
            offset + VarInt.ReadSigned(ref r) is var value && value is >= int.MinValue and <= int.MaxValue ? (int)value : throw new InvalidDataException($"{value} does not fit a Stat field");
    }
}
