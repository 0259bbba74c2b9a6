using System.Security.Cryptography;
using System.Text;

namespace OrleansCoord.Gateway.Security;

/// <summary>
/// The server side of SASL DIGEST-MD5 (RFC 2831) as ZooKeeper runs it for clients whose JAAS login module is
/// DigestLoginModule: protocol "zookeeper", server name and realm "zk-sasl-md5", qop "auth". One instance per
/// connection: the first (empty) client token gets the challenge, the client's digest response gets rspauth.
/// </summary>
public sealed class DigestMd5Server(IReadOnlyDictionary<string, string> users)
{
    private const string Realm = "zk-sasl-md5";
    private const string DigestUri = "zookeeper/" + Realm;

    private string? _nonce;

    /// <summary>The authorization id once the client has proved its password; null until then.</summary>
    public string? AuthorizationId { get; private set; }

    /// <summary>The next server token for a client token; <see cref="SaslAuthenticationException"/> when the client fails.</summary>
    public byte[] Evaluate(ReadOnlySpan<byte> clientToken)
    {
        if (AuthorizationId is not null)
        {
            throw new SaslAuthenticationException("the exchange is already complete");
        }

        if (_nonce is null)
        {
            _nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
            return Encoding.ASCII.GetBytes($"realm=\"{Realm}\",nonce=\"{_nonce}\",qop=\"auth\",charset=utf-8,algorithm=md5-sess");
        }

        var fields = Parse(Encoding.UTF8.GetString(clientToken));
        string Field(string name) => fields.TryGetValue(name, out var value) ? value : throw new SaslAuthenticationException($"the response has no {name}");
        var username = Field("username");
        if (Field("nonce") != _nonce)
        {
            throw new SaslAuthenticationException("the response answers another nonce");
        }

        var qop = fields.GetValueOrDefault("qop", "auth");
        if (qop != "auth" || Field("digest-uri") != DigestUri || Field("nc") != "00000001")
        {
            throw new SaslAuthenticationException($"unexpected qop {qop}, digest-uri {fields.GetValueOrDefault("digest-uri")} or nc {fields.GetValueOrDefault("nc")}");
        }

        if (!users.TryGetValue(username, out var password))
        {
            throw new SaslAuthenticationException($"no user {username}");
        }

        var utf8 = fields.GetValueOrDefault("charset") == "utf-8";
        var cnonce = Field("cnonce");
        var authzid = fields.GetValueOrDefault("authzid");
        var a1 = A1(username, fields.GetValueOrDefault("realm", ""), password, cnonce, authzid, utf8);
        var expected = ResponseValue(a1, cnonce, "AUTHENTICATE:" + DigestUri);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(Field("response"))))
        {
            throw new SaslAuthenticationException($"wrong password for {username}");
        }

        if (authzid is not null && authzid != username)
        {
            throw new SaslAuthenticationException($"{username} may not act as {authzid}");
        }

        AuthorizationId = username;
        return Encoding.ASCII.GetBytes("rspauth=" + ResponseValue(a1, cnonce, ":" + DigestUri));
    }

    private byte[] A1(string username, string realm, string password, string cnonce, string? authzid, bool utf8)
    {
        var secret = Md5([.. Encode(username, utf8), .. ":"u8, .. Encode(realm, utf8), .. ":"u8, .. Encode(password, utf8)]);
        return [.. secret, .. Encoding.UTF8.GetBytes($":{_nonce}:{cnonce}" + (authzid is null ? "" : ":" + authzid))];
    }

    private string ResponseValue(byte[] a1, string cnonce, string a2) =>
        Hex(Md5(Encoding.ASCII.GetBytes($"{Hex(Md5(a1))}:{_nonce}:00000001:{cnonce}:auth:{Hex(Md5(Encoding.ASCII.GetBytes(a2)))}")));

    /// <summary>RFC 2831: with charset=utf-8, a string that fits ISO 8859-1 is hashed in it, any other in UTF-8.</summary>
    private static byte[] Encode(string value, bool utf8) =>
        !utf8 || value.All(static c => c <= 0xff) ? Encoding.Latin1.GetBytes(value) : Encoding.UTF8.GetBytes(value);

    // DIGEST-MD5 is defined on MD5; clients compute exactly this.
#pragma warning disable CA5351
    private static byte[] Md5(byte[] value) => MD5.HashData(value);
#pragma warning restore CA5351

    private static string Hex(byte[] value) => Convert.ToHexStringLower(value);

    /// <summary>The directives of a digest response: name=value or name="quoted value" (backslash escapes), comma-separated.</summary>
    private static Dictionary<string, string> Parse(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == ',' || char.IsWhiteSpace(text[i])))
            {
                i++;
            }

            var eq = text.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            var name = text[i..eq].Trim();
            i = eq + 1;
            var value = new StringBuilder();
            if (i < text.Length && text[i] == '"')
            {
                for (i++; i < text.Length && text[i] != '"'; i++)
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                    }

                    value.Append(text[i]);
                }

                i++;
            }
            else
            {
                for (; i < text.Length && text[i] != ','; i++)
                {
                    value.Append(text[i]);
                }
            }

            fields[name] = value.ToString().Trim();
        }

        return fields;
    }
}

/// <summary>A SASL client that did not prove who it is.</summary>
public sealed class SaslAuthenticationException(string message) : Exception(message);
