using OrleansCoord.Protocol.Jute;

namespace OrleansCoord.Grains.Storage;

/// <summary>
/// LEB128 variable-length integers, signed ones zigzag-encoded: the snapshot's node records are mostly small numbers
/// (versions, differences between zxids) that a fixed width would spend 4 or 8 bytes on.
/// </summary>
public static class VarInt
{
    /// <summary>The most bytes one takes.</summary>
    public const int MaxBytes = 10;

    public static int Write(Span<byte> span, ulong value)
    {
        var at = 0;
        for (; value >= 0x80; value >>= 7)
        {
            span[at++] = (byte)(value | 0x80);
        }

        span[at++] = (byte)value;
        return at;
    }

    public static int WriteSigned(Span<byte> span, long value) => Write(span, (ulong)((value << 1) ^ (value >> 63)));

    public static ulong Read(ref JuteReader reader)
    {
        var value = 0UL;
        for (var shift = 0; shift < 7 * MaxBytes; shift += 7)
        {
            var b = reader.ReadRaw(1)[0];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new InvalidDataException($"a variable-length integer longer than {MaxBytes} bytes");
    }

    public static long ReadSigned(ref JuteReader reader)
    {
        var value = Read(ref reader);
        return (long)(value >> 1) ^ -(long)(value & 1);
    }

    /// <summary>Reads a count or length that must fit an int and be at most <paramref name="limit"/>.</summary>
    public static int ReadLength(ref JuteReader reader, int limit)
    {
        var value = Read(ref reader);
        return value <= (ulong)limit ? (int)value : throw new InvalidDataException($"a length of {value} where at most {limit} is possible");
    }
}
