namespace OrleansCoord.Protocol;

/// <summary>ZooKeeper's rules for znode paths (PathUtils.validatePath).</summary>
public static class PathValidation
{
    /// <summary>Returns null when the path is valid, otherwise the reason it is not.</summary>
    public static string? Validate(string? path, bool sequential = false)
    {
        if (path is null)
        {
            return "Path cannot be null";
        }

        // A sequential create may end with '/': the server appends the counter, so validate as if it had.
        var checkedPath = sequential ? path + "1" : path;
        if (checkedPath.Length == 0)
        {
            return "Path length must be > 0";
        }

        if (checkedPath[0] != '/')
        {
            return "Path must start with / character";
        }

        if (checkedPath.Length == 1)
        {
            return null;
        }

        if (checkedPath[^1] == '/')
        {
            return "Path must not end with / character";
        }

        var lastc = '/';
        for (var i = 1; i < checkedPath.Length; i++)
        {
            var c = checkedPath[i];
            if (c == 0)
            {
                return $"null character not allowed @{i}";
            }

            if (c == '/' && lastc == '/')
            {
                return $"empty node name specified @{i}";
            }

            if (c == '.' && lastc == '.')
            {
                if (checkedPath[i - 2] == '/' && (i + 1 == checkedPath.Length || checkedPath[i + 1] == '/'))
                {
                    return $"relative paths not allowed @{i}";
                }
            }
            else if (c == '.')
            {
                if (checkedPath[i - 1] == '/' && (i + 1 == checkedPath.Length || checkedPath[i + 1] == '/'))
                {
                    return $"relative paths not allowed @{i}";
                }
            }
            else if (c is (> '\u0000' and <= '\u001f') or (>= '\u007f' and <= '\u009F') or (>= '\ud800' and <= '\uf8ff') or (>= '\ufff0' and <= '\uffff'))
            {
                return $"invalid character @{i}";
            }

            lastc = c;
        }

        return null;
    }

    /// <summary>The parent of an absolute path; "/" for top-level nodes.</summary>
    public static string Parent(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }

    /// <summary>The parent of an absolute path as a slice of it, so that lookups by parent need not allocate it.</summary>
    public static ReadOnlySpan<char> ParentSpan(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path.AsSpan(0, slash);
    }

    /// <summary>The last component of an absolute path.</summary>
    public static string Name(string path) => NameSpan(path).ToString();

    /// <summary>The last component of an absolute path, as a slice of it.</summary>
    public static ReadOnlySpan<char> NameSpan(string path) => path.AsSpan(path.LastIndexOf('/') + 1);

    /// <summary>Whether a path is the ancestor itself or lies below it ("/" is above every path).</summary>
    public static bool IsAtOrBelow(string path, string ancestor) =>
        ancestor == "/"
        || (path.StartsWith(ancestor, StringComparison.Ordinal) && (path.Length == ancestor.Length || path[ancestor.Length] == '/'));

    public static string Combine(string parent, string name) => parent == "/" ? "/" + name : parent + "/" + name;
}
