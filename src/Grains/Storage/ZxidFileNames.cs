using System.Globalization;

namespace OrleansCoord.Grains.Storage;

/// <summary>Files named <c>&lt;prefix&gt;&lt;zxid in hex&gt;</c>, as ZooKeeper names its log segments and snapshots.</summary>
internal static class ZxidFileNames
{
    public static string Name(string directory, string prefix, long zxid) =>
        Path.Combine(directory, prefix + zxid.ToString("x16", CultureInfo.InvariantCulture));

    /// <summary>The directory's files with that prefix and a zxid after it, oldest zxid first; others are ignored.</summary>
    public static List<(long Zxid, string Path)> List(string directory, string prefix)
    {
        var files = new List<(long, string)>();
        if (!Directory.Exists(directory))
        {
            return files;
        }

        foreach (var path in Directory.EnumerateFiles(directory, prefix + "*"))
        {
            if (long.TryParse(Path.GetFileName(path).AsSpan(prefix.Length), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var zxid))
            {
                files.Add((zxid, path));
            }
        }

        files.Sort();
        return files;
    }
}
