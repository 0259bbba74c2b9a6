using OrleansCoord.Grains.QuorumLog;
using OrleansCoord.Grains.Security;
using OrleansCoord.Grains.Tree;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Tests.Protocol;

/// <summary>Small server rules that must match ZooKeeper's byte for byte.</summary>
public sealed class ServerRulesTests
{
    [Theory]
    [InlineData(0, "0000000000")]
    [InlineData(42, "0000000042")]
    [InlineData(-1, "-000000001")]
    [InlineData(int.MinValue, "-2147483648")]
    public void Sequential_suffix_is_javas_percent_010d(int counter, string expected) => Assert.Equal(expected, TxnValidator.FormatSequence(counter));

    [Fact]
    public void Digest_ids_match_zookeepers_documented_example() =>
        Assert.Equal("super:xQJmxLMiHGwaqBvst5y6rkB6HQs=", AuthenticationProviders.DigestId("super:admin"));

    [Fact]
    public void Ip_acls_match_by_prefix()
    {
        var acl = new[] { new Acl(Perms.Read, new Id("ip", "10.1.0.0/16")) };
        Assert.True(AclChecker.IsAllowed(acl, [new Id("ip", "10.1.200.3")], Perms.Read, false));
        Assert.False(AclChecker.IsAllowed(acl, [new Id("ip", "10.2.0.1")], Perms.Read, false));
        Assert.False(AclChecker.IsAllowed(acl, [new Id("ip", "10.1.200.3")], Perms.Write, false));
        Assert.True(AclChecker.IsAllowed(acl, [new Id("super", "")], Perms.Write, false));
    }

    [Fact]
    public void Fixup_drops_duplicates_and_keeps_the_entries_before_an_expanded_auth()
    {
        var schemes = AuthenticationProviders.Default;
        var anyone = new Acl(Perms.All, Id.Anyone);
        var ip = new Acl(Perms.Read, new Id("ip", "10.0.0.1"));
        Assert.Equal([anyone], AclChecker.Fixup([anyone, anyone], [], schemes)!);
        Assert.Equal([ip, anyone], AclChecker.Fixup([ip, ip, anyone], [], schemes)!);
        Assert.Equal(
            [ip, new Acl(Perms.Write, new Id("digest", "u:h")), anyone],
            AclChecker.Fixup([ip, new Acl(Perms.Write, new Id("auth", "")), anyone], [new Id("ip", "127.0.0.1"), new Id("digest", "u:h")], schemes)!);

        // A list that comes out as it went in is the shared instance of that list.
        Assert.Same(AclChecker.Fixup([ip, anyone], [], schemes), AclChecker.Fixup([ip, anyone], [], schemes));
    }

    [Fact]
    public void Fixup_expands_auth_and_rejects_malformed_ids()
    {
        var schemes = AuthenticationProviders.Default;
        Assert.Null(AclChecker.Fixup([], [], schemes));
        Assert.Null(AclChecker.Fixup([new Acl(Perms.All, new Id("auth", ""))], [new Id("ip", "127.0.0.1")], schemes));
        Assert.Equal([new Acl(Perms.All, new Id("digest", "u:h"))], AclChecker.Fixup([new Acl(Perms.All, new Id("auth", ""))], [new Id("ip", "127.0.0.1"), new Id("digest", "u:h")], schemes)!);
        Assert.Null(AclChecker.Fixup([new Acl(Perms.All, new Id("digest", "nocolon"))], [], schemes));
        Assert.Null(AclChecker.Fixup([new Acl(Perms.All, new Id("ip", "300.1.1.1"))], [], schemes));
        Assert.Null(AclChecker.Fixup([new Acl(Perms.All, new Id("world", "someone"))], [], schemes));

        // x509 and sasl ids are valid only where their providers are: with TLS and with SASL.
        Acl[] x509 = [new Acl(Perms.All, new Id("x509", "CN=client,O=test"))];
        Acl[] sasl = [new Acl(Perms.All, new Id("sasl", "bob"))];
        Assert.Null(AclChecker.Fixup(x509, [], schemes));
        Assert.Null(AclChecker.Fixup(sasl, [], schemes));
        HashSet<string> all = [.. schemes, "x509", "sasl"];
        Assert.Equal(x509, AclChecker.Fixup(x509, [], all)!);
        Assert.Equal(sasl, AclChecker.Fixup(sasl, [], all)!);
        Assert.Null(AclChecker.Fixup([new Acl(Perms.All, new Id("sasl", "a@b@c"))], [], all));
        Assert.Equal(new Id("digest", "u:x"), AclChecker.MaskDigests([new Acl(Perms.All, new Id("digest", "u:secret"))])[0].Id);
    }

    [Theory]
    [InlineData("/", "/")]
    [InlineData("/app", "/app")]
    [InlineData("/app/a/b", "/app")]
    [InlineData("/zookeeper/quota", "/zookeeper")]
    public void Paths_map_to_the_subtree_of_their_first_component(string path, string key) => Assert.Equal(key, SubtreePartitioner.KeyFor(path));
}
