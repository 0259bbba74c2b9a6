using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace OrleansCoord.Grains.Security;

/// <summary>The built-in ACL schemes: which ids are well formed and which authenticated ids match them.</summary>
public static class AuthenticationProviders
{
    public const string World = "world";
    public const string Auth = "auth";
    public const string Digest = "digest";
    public const string Ip = "ip";
    public const string Super = "super";
    public const string X509 = "x509";
    public const string Sasl = "sasl";

    /// <summary>digest's id for "user:password": user:base64(sha1("user:password")).</summary>
    public static string DigestId(string userPassword)
    {
        var colon = userPassword.IndexOf(':', StringComparison.Ordinal);
        var user = colon < 0 ? userPassword : userPassword[..colon];
        // SHA-1 is what ZooKeeper's digest scheme is defined with; ids must match those clients compute.
#pragma warning disable CA5350
        var hash = SHA1.HashData(Encoding.UTF8.GetBytes(userPassword));
#pragma warning restore CA5350
        return user + ":" + Convert.ToBase64String(hash);
    }

    /// <summary>Whether authenticating with this scheme yields ids that the "auth" ACL scheme may expand to.</summary>
    public static bool IsAuthenticatedScheme(string scheme) => scheme is Digest or X509 or Sasl;

    /// <summary>The schemes every server takes in ACLs; x509 and sasl come with their authentication providers.</summary>
    public static IReadOnlySet<string> Default { get; } = new HashSet<string>(StringComparer.Ordinal) { Digest, Ip };

    /// <summary>Whether an ACL id is well formed for its scheme (ServerAuthenticationProvider.isValid).</summary>
    public static bool IsValid(string scheme, string id) => scheme switch
    {
        // Java's split(":") drops trailing empty parts: "u:" is one part, so not valid.
        Digest => JavaSplitCount(id, ':') == 2,
        Ip => TryParseIpExpression(id, out _, out _),
        X509 => IsDistinguishedName(id),
        Sasl => IsKerberosName(id),
        _ => false,
    };

    /// <summary>What SASLAuthenticationProvider accepts: a Kerberos principal, name[/host][@REALM], or a plain user name.</summary>
    private static bool IsKerberosName(string id)
    {
        var at = id.IndexOf('@', StringComparison.Ordinal);
        var name = at < 0 ? id : id[..at];
        return name.Length > 0 && name.Count(static c => c == '/') <= 1 && (at < 0 || id.IndexOf('@', at + 1) < 0);
    }

    /// <summary>
    /// The x509 id of a client certificate: its subject as Java's X500Principal.getName() gives it (RFC 2253: most
    /// specific attribute first, comma-separated, special characters escaped), as ZooKeeper's X509AuthenticationProvider
    /// takes it.
    /// </summary>
    public static string X509Id(X500DistinguishedName subject)
    {
        var parts = new List<string>();
        foreach (var rdn in subject.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.HasMultipleElements)
            {
                // Multi-valued RDNs are rare in client certificates; .NET gives them as one string.
                parts.Add(new X500DistinguishedName(rdn.RawData.Span).Name);
                continue;
            }

            var oid = rdn.GetSingleElementType();
            parts.Add($"{Rfc2253Keyword(oid.Value)}={EscapeRfc2253(rdn.GetSingleElementValue() ?? "")}");
        }

        return string.Join(",", parts);
    }

    private static string Rfc2253Keyword(string? oid) => oid switch
    {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => oid ?? "",
    };

    private static string EscapeRfc2253(string value)
    {
        var sb = new System.Text.StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is ',' or '+' or '"' or '\\' or '<' or '>' or ';' || (i == 0 && c is '#' or ' ') || (i == value.Length - 1 && c == ' '))
            {
                sb.Append('\\');
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    private static bool IsDistinguishedName(string id)
    {
        try
        {
            _ = new X500DistinguishedName(id);
            return id.Length > 0;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>Whether an authenticated id matches an ACL id of the same scheme.</summary>
    public static bool Matches(string scheme, string authId, string aclId) => scheme switch
    {
        Digest => string.Equals(authId, aclId, StringComparison.Ordinal),
        Ip => IpMatches(authId, aclId),
        X509 or Sasl => string.Equals(authId, aclId, StringComparison.Ordinal),
        _ => false,
    };

    private static int JavaSplitCount(string value, char separator)
    {
        var parts = value.Split(separator).ToList();
        while (parts.Count > 0 && parts[^1].Length == 0)
        {
            parts.RemoveAt(parts.Count - 1);
        }

        return parts.Count;
    }

    private static bool TryParseIpExpression(string expression, out byte[] address, out int bits)
    {
        address = [];
        bits = 0;
        var slash = expression.IndexOf('/', StringComparison.Ordinal);
        var host = slash < 0 ? expression : expression[..slash];
        if (!TryParseAddress(host, out address))
        {
            return false;
        }

        bits = address.Length * 8;
        if (slash >= 0)
        {
            if (!int.TryParse(expression[(slash + 1)..], out bits) || bits < 0 || bits > address.Length * 8)
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryParseAddress(string host, out byte[] bytes)
    {
        bytes = [];
        if (host.Contains(':', StringComparison.Ordinal))
        {
            if (!IPAddress.TryParse(host, out var v6))
            {
                return false;
            }

            bytes = v6.GetAddressBytes();
            return true;
        }

        // ZooKeeper accepts only dotted-quad IPv4 here, not the shorthand forms IPAddress.TryParse allows.
        var parts = host.Split('.');
        if (parts.Length != 4)
        {
            return false;
        }

        bytes = new byte[4];
        for (var i = 0; i < 4; i++)
        {
            if (!byte.TryParse(parts[i], out bytes[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IpMatches(string clientAddress, string aclExpression)
    {
        if (!TryParseIpExpression(aclExpression, out var aclAddress, out var bits) || !TryParseAddress(clientAddress, out var client))
        {
            return false;
        }

        if (client.Length != aclAddress.Length)
        {
            return false;
        }

        for (var i = 0; i < bits; i++)
        {
            var mask = 0x80 >> (i % 8);
            if ((client[i / 8] & mask) != (aclAddress[i / 8] & mask))
            {
                return false;
            }
        }

        return true;
    }
}
