using System.Text.RegularExpressions;

namespace OrleansCoord.Silo.Configuration;

/// <summary>
/// The users of a JAAS login configuration's server section, as ZooKeeper's DigestLoginModule takes them
/// (<c>user_NAME="password"</c> options), for SASL DIGEST-MD5. Other login modules (Kerberos) are refused.
/// </summary>
public static partial class JaasConfig
{
    private const string DigestLoginModule = "org.apache.zookeeper.server.auth.DigestLoginModule";

    /// <summary>User name to password; throws <see cref="ZooCfgException"/> naming the key when the file or section is unusable.</summary>
    public static Dictionary<string, string> ReadUsers(string key, string path, string section)
    {
        if (!File.Exists(path))
        {
            throw new ZooCfgException(key, $"JAAS file '{path}' does not exist");
        }

        var text = Comments().Replace(File.ReadAllText(path), " ");
        var match = Section().Matches(text).FirstOrDefault(m => m.Groups["name"].Value == section)
            ?? throw new ZooCfgException(key, $"JAAS file '{path}' has no {section} section");
        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in match.Groups["body"].Value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var module = entry.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries)[0];
            if (module != DigestLoginModule)
            {
                throw new ZooCfgException(key, $"{section} uses {module}; only {DigestLoginModule} (SASL DIGEST-MD5) is supported");
            }

            foreach (Match option in Option().Matches(entry))
            {
                users[option.Groups["user"].Value] = option.Groups["password"].Value;
            }
        }

        return users.Count > 0 ? users : throw new ZooCfgException(key, $"{section} in '{path}' names no user_NAME=\"password\"");
    }

    [GeneratedRegex(@"/\*.*?\*/|//[^\n]*", RegexOptions.Singleline)]
    private static partial Regex Comments();

    [GeneratedRegex(@"(?<name>[A-Za-z0-9_.-]+)\s*\{(?<body>[^}]*)\}\s*;")]
    private static partial Regex Section();

    [GeneratedRegex(@"\buser_(?<user>[^=\s]+)\s*=\s*""(?<password>[^""]*)""")]
    private static partial Regex Option();
}
