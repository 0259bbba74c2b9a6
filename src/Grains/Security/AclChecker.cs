using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Grains.Security;

/// <summary>ZooKeeper's ACL rules: permission checks and the normalisation of ACLs given to create and setACL.</summary>
public static class AclChecker
{
    /// <summary>Whether any of the session's ids is granted any of <paramref name="perm"/> (ZooKeeperServer.checkACL).</summary>
    public static bool IsAllowed(IReadOnlyList<Acl>? acl, IReadOnlyList<Id> authIds, Perms perm, bool skipAcl)
    {
        if (skipAcl || acl is null || acl.Count == 0)
        {
            return true;
        }

        // Indexed loops: these lists are arrays and lists behind an interface, whose enumerators would be boxed on every write.
        for (var i = 0; i < authIds.Count; i++)
        {
            if (authIds[i].Scheme == AuthenticationProviders.Super)
            {
                return true;
            }
        }

        for (var e = 0; e < acl.Count; e++)
        {
            var entry = acl[e];
            if ((entry.Perms & perm) == 0)
            {
                continue;
            }

            if (entry.Id.Scheme == AuthenticationProviders.World && entry.Id.Identity == "anyone")
            {
                return true;
            }

            for (var i = 0; i < authIds.Count; i++)
            {
                var id = authIds[i];
                if (id.Scheme == entry.Id.Scheme && AuthenticationProviders.Matches(id.Scheme, id.Identity, entry.Id.Identity))
                {
                    return true;
                }
            }
        }

        return false;
    }

    // ACL lists this short are deduplicated without a hash set; most have one entry.
    private const int SmallList = 8;

    /// <summary>
    /// Validates an ACL list and expands the "auth" scheme into the caller's authenticated ids
    /// (PrepRequestProcessor.fixupACL); null means INVALIDACL. Only the schemes of the server's authentication
    /// providers are valid, as in ZooKeeper's ProviderRegistry.
    /// </summary>
    public static Acl[]? Fixup(IReadOnlyList<Acl>? acl, IReadOnlyList<Id> authIds, IReadOnlySet<string> schemes)
    {
        if (acl is null || acl.Count == 0)
        {
            return null;
        }

        // Most lists come out as they went in: a new list is only made from the first entry that differs.
        List<Acl>? result = null;
        var entries = acl.Count <= SmallList ? acl : [.. acl.Distinct()];
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (acl.Count <= SmallList && IndexOf(entries, entry) < i)
            {
                // A duplicate, dropped as ZooKeeper's removeDuplicates does; a short list is searched, not hashed.
                result ??= Head(entries, i);
                continue;
            }

            var id = entry.Id;
            if (id.Scheme == AuthenticationProviders.World && id.Identity == "anyone")
            {
                result?.Add(entry);
            }
            else if (id.Scheme == AuthenticationProviders.Auth)
            {
                result ??= Head(entries, i);
                var any = false;
                for (var a = 0; a < authIds.Count; a++)
                {
                    var authId = authIds[a];
                    if (AuthenticationProviders.IsAuthenticatedScheme(authId.Scheme))
                    {
                        any = true;
                        result.Add(new Acl(entry.Perms, authId));
                    }
                }

                if (!any)
                {
                    return null;
                }
            }
            else if (schemes.Contains(id.Scheme) && AuthenticationProviders.IsValid(id.Scheme, id.Identity))
            {
                result?.Add(entry);
            }
            else
            {
                return null;
            }
        }

        return AclCache.Intern(AsSpan(result ?? entries));
    }

    private static ReadOnlySpan<Acl> AsSpan(IReadOnlyList<Acl> list) => list switch
    {
        List<Acl> l => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(l),
        Acl[] a => a,
        _ => list.ToArray(),
    };

    private static List<Acl> Head(IReadOnlyList<Acl> entries, int count)
    {
        var head = new List<Acl>(entries.Count);
        for (var i = 0; i < count; i++)
        {
            head.Add(entries[i]);
        }

        return head;
    }

    private static int IndexOf(IReadOnlyList<Acl> acl, Acl entry)
    {
        for (var i = 0; i < acl.Count; i++)
        {
            if (acl[i] == entry)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>getACL without ADMIN shows digest ids as "user:x" (FinalRequestProcessor).</summary>
    public static Acl[] MaskDigests(IReadOnlyList<Acl> acl)
    {
        var masked = new Acl[acl.Count];
        for (var i = 0; i < acl.Count; i++)
        {
            var entry = acl[i];
            if (entry.Id.Scheme == AuthenticationProviders.Digest)
            {
                var colon = entry.Id.Identity.IndexOf(':', StringComparison.Ordinal);
                if (colon >= 0)
                {
                    entry = new Acl(entry.Perms, new Id(entry.Id.Scheme, entry.Id.Identity[..colon] + ":x"));
                }
            }

            masked[i] = entry;
        }

        return masked;
    }
}
