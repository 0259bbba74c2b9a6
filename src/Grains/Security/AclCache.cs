using System.Collections.Concurrent;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Security;

/// <summary>
/// One shared instance per distinct ACL list, as ZooKeeper's ReferenceCountedACLCache keeps them: a tree has a
/// handful of distinct ACLs and millions of nodes, which otherwise each hold a copy.
/// </summary>
public static class AclCache
{
    // Distinct lists beyond this (per-node unique ACLs) are kept as they are rather than growing the cache forever.
    private const int MaxEntries = 10_000;

    private static readonly ConcurrentDictionary<Acl[], Acl[]> Lists = new(new ListComparer());

    // The list interned last: most znodes share one ACL, and most calls pass the shared list itself, which this
    // answers without hashing the list's ids.
    private static Acl[] _last = [];

    public static Acl[] Intern(Acl[] acl)
    {
        if (acl.Length == 0)
        {
            return [];
        }

        if (ReferenceEquals(acl, Volatile.Read(ref _last)))
        {
            return acl;
        }

        if (!Lists.TryGetValue(acl, out var shared))
        {
            if (Lists.Count >= MaxEntries)
            {
                return acl;
            }

            shared = Lists.GetOrAdd(acl, acl);
        }

        Volatile.Write(ref _last, shared);
        return shared;
    }

    /// <summary>The shared list equal to these entries; allocates only for a list other than the one interned last.</summary>
    public static Acl[] Intern(ReadOnlySpan<Acl> acl)
    {
        var last = Volatile.Read(ref _last);
        return acl.SequenceEqual(last) && last.Length > 0 ? last : Intern(acl.ToArray());
    }

    private sealed class ListComparer : IEqualityComparer<Acl[]>
    {
        public bool Equals(Acl[]? x, Acl[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

        public int GetHashCode(Acl[] obj)
        {
            var hash = default(HashCode);
            foreach (var entry in obj)
            {
                hash.Add(entry);
            }

            return hash.ToHashCode();
        }
    }
}
