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

    public static Acl[] Intern(Acl[] acl)
    {
        if (acl.Length == 0)
        {
            return [];
        }

        if (Lists.TryGetValue(acl, out var shared))
        {
            return shared;
        }

        return Lists.Count < MaxEntries ? Lists.GetOrAdd(acl, acl) : acl;
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
