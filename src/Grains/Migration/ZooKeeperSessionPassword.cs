namespace OrleansCoord.Grains.Migration;

/// <summary>
/// The password Apache ZooKeeper gives a session: 16 bytes of java.util.Random seeded with the session id mixed
/// with a fixed secret. Imported sessions keep it, so a client of the old server can resume its session here.
/// </summary>
public static class ZooKeeperSessionPassword
{
    private const long Secret = 0xB3415C00L;

    // java.util.Random's 48-bit linear congruential generator, as its documentation specifies it.
    private const long Multiplier = 0x5DEECE66DL;
    private const long Addend = 0xBL;
    private const long Mask = (1L << 48) - 1;

    public static byte[] For(long sessionId)
    {
        var seed = (sessionId ^ Secret ^ Multiplier) & Mask;
        var password = new byte[16];
        for (var i = 0; i < password.Length;)
        {
            seed = unchecked((seed * Multiplier) + Addend) & Mask;
            var random = (int)(seed >>> 16);
            for (var n = Math.Min(password.Length - i, 4); n-- > 0; random >>= 8)
            {
                password[i++] = (byte)random;
            }
        }

        return password;
    }
}
