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
/// Encodes znodes into a <see cref="SnapshotChunk"/>: the node count, then each node with its ACL list written the
/// first time the chunk meets it and referred to by index after that (nodes share a handful of lists).
/// </summary>
public sealed class SnapshotChunkBuilder : IBufferWriter<byte>
{
    /// <summary>A chunk stops taking nodes past this size: small enough to stay off the large-object heap and a turn short.</summary>
    public const int TargetBytes = 60 * 1024;

    // Stat (68 bytes) and the container flag.
    private const int NodeTailBytes = 69;

    private readonly Dictionary<Acl[], int> _acls = new(ReferenceEqualityComparer.Instance);
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private int _length = 4;
    private int _count;
    private Acl[]? _lastAcl;
    private int _lastAclIndex;

    public bool IsFull => _length >= TargetBytes;

    public void Add(string path, byte[]? data, NodeMeta meta)
    {
        var dataLength = data?.Length ?? 0;
        var span = GetSpan(4 + (path.Length * 3) + 4 + dataLength + 4);
        var pathLength = Encoding.UTF8.GetBytes(path, span[4..]);
        BinaryPrimitives.WriteInt32BigEndian(span, pathLength);
        var at = 4 + pathLength;
        BinaryPrimitives.WriteInt32BigEndian(span[at..], data is null ? -1 : dataLength);
        data.AsSpan().CopyTo(span[(at + 4)..]);
        at += 4 + dataLength;

        var acl = meta.Acl;
        if (!ReferenceEquals(acl, _lastAcl))
        {
            if (!_acls.TryGetValue(acl, out _lastAclIndex))
            {
                _lastAclIndex = -1;
            }

            _lastAcl = acl;
        }

        BinaryPrimitives.WriteInt32BigEndian(span[at..], _lastAclIndex);
        Advance(at + 4);
        if (_lastAclIndex < 0)
        {
            // -1: the list follows, and the index it gets is the next one.
            Acl.WriteList(new JuteWriter(this), acl);
            _lastAclIndex = _acls.Count;
            _acls.Add(acl, _lastAclIndex);
        }

        span = GetSpan(NodeTailBytes);
        WriteStat(span, meta.Stat);
        span[68] = meta.IsContainer ? (byte)1 : (byte)0;
        Advance(NodeTailBytes);
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

    private static void WriteStat(Span<byte> span, in Stat stat)
    {
        BinaryPrimitives.WriteInt64BigEndian(span, stat.Czxid);
        BinaryPrimitives.WriteInt64BigEndian(span[8..], stat.Mzxid);
        BinaryPrimitives.WriteInt64BigEndian(span[16..], stat.Ctime);
        BinaryPrimitives.WriteInt64BigEndian(span[24..], stat.Mtime);
        BinaryPrimitives.WriteInt32BigEndian(span[32..], stat.Version);
        BinaryPrimitives.WriteInt32BigEndian(span[36..], stat.Cversion);
        BinaryPrimitives.WriteInt32BigEndian(span[40..], stat.Aversion);
        BinaryPrimitives.WriteInt64BigEndian(span[44..], stat.EphemeralOwner);
        BinaryPrimitives.WriteInt32BigEndian(span[52..], stat.DataLength);
        BinaryPrimitives.WriteInt32BigEndian(span[56..], stat.NumChildren);
        BinaryPrimitives.WriteInt64BigEndian(span[60..], stat.Pzxid);
    }
}
