using System.Buffers.Binary;
using System.Text;

namespace OrleansCoord.Protocol.Jute;

/// <summary>Reads jute's big-endian primitives straight out of one frame's bytes.</summary>
public ref struct JuteReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public JuteReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly bool AtEnd => _position >= _buffer.Length;

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw new JuteException($"record truncated: needed {count} bytes at offset {_position}, {Remaining} left");
        }

        var span = _buffer.Slice(_position, count);
        _position += count;
        return span;
    }

    public int ReadInt() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public long ReadLong() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public bool ReadBool() => Take(1)[0] != 0;

    /// <summary>The next bytes as they are, for encodings of the caller's own (the counterpart of <see cref="JuteWriter.WriteRaw"/>).</summary>
    public ReadOnlySpan<byte> ReadRaw(int count) => Take(count);

    /// <summary>A jute buffer: null when the length is -1 (kazoo sends empty data that way).</summary>
    public byte[]? ReadBuffer()
    {
        var length = ReadInt();
        if (length == -1)
        {
            return null;
        }

        if (length < -1)
        {
            throw new JuteException($"negative buffer length {length}");
        }

        return Take(length).ToArray();
    }

    /// <summary>A jute ustring: UTF-8 with an int32 length; null when the length is -1.</summary>
    public string? ReadString() => TakeString(out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    /// <summary>Reads a ustring where the protocol requires one (a path, a scheme): null becomes empty.</summary>
    public string ReadRequiredString() => ReadString() ?? string.Empty;

    /// <summary>
    /// Reads a required ustring, handing back one of <paramref name="common"/> (ASCII) itself when the bytes spell it:
    /// values that come with nearly every request, such as world:anyone, then cost no string of their own.
    /// </summary>
    public string ReadRequiredString(ReadOnlySpan<string> common)
    {
        if (!TakeString(out var bytes))
        {
            return string.Empty;
        }

        foreach (var value in common)
        {
            if (value.Length == bytes.Length && Ascii.Equals(bytes, value))
            {
                return value;
            }
        }

        return Encoding.UTF8.GetString(bytes);
    }

    /// <summary>A ustring's bytes; false when its length is -1 (null).</summary>
    private bool TakeString(out ReadOnlySpan<byte> bytes)
    {
        var length = ReadInt();
        if (length < -1)
        {
            throw new JuteException($"negative string length {length}");
        }

        bytes = length == -1 ? default : Take(length);
        return length != -1;
    }

    /// <summary>The element count of a jute vector; -1 (null) is returned as-is.</summary>
    public int ReadVectorCount()
    {
        var count = ReadInt();
        if (count < -1 || count > Remaining)
        {
            // Every element takes at least one byte, so a count beyond what is left is malformed.
            throw new JuteException($"bad vector length {count}");
        }

        return count;
    }

    public List<string> ReadStringList()
    {
        var count = ReadVectorCount();
        var list = new List<string>(Math.Max(count, 0));
        for (var i = 0; i < count; i++)
        {
            list.Add(ReadRequiredString());
        }

        return list;
    }
}
