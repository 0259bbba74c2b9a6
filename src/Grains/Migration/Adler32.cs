namespace OrleansCoord.Grains.Migration;

/// <summary>The Adler-32 checksum (RFC 1950) that Apache ZooKeeper's snapshots and txn logs carry.</summary>
public static class Adler32
{
    private const uint Modulus = 65521;

    // The largest run of bytes whose sums cannot overflow 32 bits before they are reduced.
    private const int MaxRun = 5552;

    public const uint Initial = 1;

    public static uint Append(uint adler, ReadOnlySpan<byte> bytes)
    {
        uint a = adler & 0xffff, b = adler >> 16;
        while (bytes.Length > 0)
        {
            var run = Math.Min(bytes.Length, MaxRun);
            foreach (var value in bytes[..run])
            {
                a += value;
                b += a;
            }

            a %= Modulus;
            b %= Modulus;
            bytes = bytes[run..];
        }

        return (b << 16) | a;
    }
}
