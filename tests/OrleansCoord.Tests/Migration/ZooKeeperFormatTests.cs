using OrleansCoord.Grains.Migration;

namespace OrleansCoord.Tests.Migration;

/// <summary>The checksums and session passwords of Apache ZooKeeper's files, against values its JVM computes.</summary>
public sealed class ZooKeeperFormatTests
{
    [Fact]
    public void Adler32_matches_the_published_value() =>
        Assert.Equal(0x11E60398u, Adler32.Append(Adler32.Initial, "Wikipedia"u8));

    [Fact]
    public void Adler32_of_a_long_run_reduces_its_sums_in_time()
    {
        // 0xff bytes make the sums grow fastest; java.util.zip.Adler32 gives this for one million of them.
        var bytes = Enumerable.Repeat((byte)0xff, 1_000_000).ToArray();
        Assert.Equal(0x3843E1BEu, Adler32.Append(Adler32.Initial, bytes));
    }

    [Fact]
    public void Session_password_is_the_one_ZooKeeper_generates() =>
        // new java.util.Random(0x100018fd8f50000L ^ 0xB3415C00L).nextBytes(new byte[16]) on OpenJDK 17.
        Assert.Equal("c150940abaf9345e073c64e09321b296", Convert.ToHexStringLower(ZooKeeperSessionPassword.For(0x100018fd8f50000)));
}
