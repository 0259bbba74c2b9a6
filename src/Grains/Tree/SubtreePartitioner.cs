namespace OrleansCoord.Grains.Tree;

/// <summary>
/// Maps a path to the subtree grain that owns it: the root node lives in "/", every other node in the grain
/// named after its first path component, so "/app/a/b" belongs to "/app".
/// </summary>
public static class SubtreePartitioner
{
    public const string RootKey = "/";

    /// <summary>Whether the path is the root of its own subtree grain (the root node or a top-level node).</summary>
    public static bool IsKey(string path) => path.Length <= 1 || path.IndexOf('/', 1) < 0;

    /// <summary>The key as a slice of the path, so that lookups by key need not allocate it.</summary>
    public static ReadOnlySpan<char> KeySpanFor(string path)
    {
        if (path.Length <= 1)
        {
            return RootKey;
        }

        var slash = path.IndexOf('/', 1);
        return slash < 0 ? path : path.AsSpan(0, slash);
    }

    public static string KeyFor(string path)
    {
        if (path.Length <= 1)
        {
            return RootKey;
        }

        var slash = path.IndexOf('/', 1);
        return slash < 0 ? path : path[..slash];
    }
}
