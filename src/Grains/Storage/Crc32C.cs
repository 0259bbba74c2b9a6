using System.Buffers.Binary;
using System.Numerics;

namespace OrleansCoord.Grains.Storage;

/// <summary>CRC-32C (Castagnoli), hardware-accelerated where the CPU has it, guarding every log record and snapshot.</summary>
public static class Crc32C
{
    /// <summary>Extends a running CRC (start from 0) over more bytes.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        crc = ~crc;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
