namespace OrleansCoord.Protocol;

/// <summary>
/// What a stored ephemeralOwner says of a node, as ZooKeeper's EphemeralType encodes it: 0 for a persistent node
/// (containers here too: they are marked apart), a session id for an ephemeral, and for a TTL node (only with
/// extendedTypesEnabled) a top byte of 0xff over the TTL in milliseconds.
/// </summary>
public static class EphemeralOwners
{
    /// <summary>The longest TTL: the 40 bits below the top byte and ZooKeeper's reserved bits (about 34 years).</summary>
    public const long MaxTtl = 0x000000ffffffffff;

    private const long ExtendedMask = unchecked((long)0xff00000000000000);
    private const long ReservedBits = 0x00ffff0000000000;

    public static long ForTtl(long ttl) => ExtendedMask | ttl;

    /// <summary>Whether the owner marks a TTL node; with extended types off no node carries such an owner.</summary>
    public static bool IsTtl(long owner) => (owner & ExtendedMask) == ExtendedMask && (owner & ReservedBits) == 0;

    public static long TtlOf(long owner) => owner & MaxTtl;

    /// <summary>Whether the owner is a session's, whose node may have no children (ZooKeeper's EphemeralType.NORMAL).</summary>
    public static bool IsSession(long owner, bool extendedTypes) => owner != 0 && !(extendedTypes && IsTtl(owner));
}
