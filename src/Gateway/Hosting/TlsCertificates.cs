using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OrleansCoord.Gateway.Hosting;

/// <summary>The secure client port's certificate and the certificates client certificates must chain to, loaded once at start-up.</summary>
public sealed class TlsCertificates
{
    private TlsCertificates(X509Certificate2 server, X509Certificate2Collection? trust)
    {
        Server = server;
        Trust = trust;
    }

    public X509Certificate2 Server { get; }

    /// <summary>The trust store's certificates; null to trust what the system trusts.</summary>
    public X509Certificate2Collection? Trust { get; }

    /// <summary>Loads both stores; a missing, unreadable or keyless store throws <see cref="TlsConfigurationException"/> naming its key.</summary>
    public static TlsCertificates Load(TlsOptions options)
    {
        var stores = LoadStore("ssl.keyStore", options.KeyStoreLocation, options.KeyStoreType, options.KeyStorePassword);
        var server = stores.FirstOrDefault(c => c.HasPrivateKey)
            ?? throw new TlsConfigurationException("ssl.keyStore.location", $"'{options.KeyStoreLocation}' holds no certificate with its private key");

        // SslStream on Linux wants a key it can use from any store: a PKCS#12 round trip gives it one.
        server = X509CertificateLoader.LoadPkcs12(server.Export(X509ContentType.Pkcs12), null);
        var trust = string.IsNullOrEmpty(options.TrustStoreLocation)
            ? null
            : LoadStore("ssl.trustStore", options.TrustStoreLocation, options.TrustStoreType, options.TrustStorePassword);
        return new TlsCertificates(server, trust);
    }

    /// <summary>Whether a client certificate chains to the trust store (or, without one, to the system's roots).</summary>
    public bool IsTrusted(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (Trust is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(Trust);
        }

        return chain.Build(certificate);
    }

    private static X509Certificate2Collection LoadStore(string key, string path, string? type, string? password)
    {
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new TlsConfigurationException(key + ".location", $"file '{path}' does not exist");
        }

        var format = (type ?? (path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) ? "PKCS12" : "PEM")).ToUpperInvariant();
        try
        {
            return format switch
            {
                "PEM" => LoadPem(path, password),
                "PKCS12" => X509CertificateLoader.LoadPkcs12CollectionFromFile(path, password),
                _ => throw new TlsConfigurationException(key + ".type", $"'{type}' is not supported: use PEM or PKCS12"),
            };
        }
        catch (CryptographicException ex)
        {
            throw new TlsConfigurationException(key + ".location", $"'{path}' could not be read as {format}: {ex.Message}");
        }
    }

    /// <summary>A PEM file's certificates, the first with the file's private key when it holds one (ZooKeeper's PEM key store).</summary>
    private static X509Certificate2Collection LoadPem(string path, string? password)
    {
        var certificates = new X509Certificate2Collection();
        certificates.ImportFromPemFile(path);
        if (certificates.Count == 0)
        {
            throw new CryptographicException("no certificate in it");
        }

        var pem = File.ReadAllText(path);
        if (pem.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            certificates[0] = string.IsNullOrEmpty(password)
                ? X509Certificate2.CreateFromPemFile(path)
                : X509Certificate2.CreateFromEncryptedPemFile(path, password);
        }

        return certificates;
    }
}

/// <summary>A secure-port setting that cannot be used, named by its zoo.cfg key.</summary>
public sealed class TlsConfigurationException(string key, string message) : Exception($"Invalid configuration: {key}: {message}")
{
    public string Key { get; } = key;
}
