namespace OrleansCoord.Gateway.Hosting;

/// <summary>ssl.clientAuth: whether clients on the secure port must, may or must not present a certificate.</summary>
public enum ClientAuth
{
    None,
    Want,
    Need,
}

/// <summary>The secure client port's key and trust stores (ZooKeeper's ssl.* keys), in PEM or PKCS#12.</summary>
public sealed class TlsOptions
{
    /// <summary>ssl.keyStore.location: the server's certificate and private key.</summary>
    public string KeyStoreLocation { get; set; } = "";

    /// <summary>ssl.keyStore.password: of a PKCS#12 store or an encrypted PEM key.</summary>
    public string? KeyStorePassword { get; set; }

    /// <summary>ssl.keyStore.type: PEM or PKCS12; by default from the file's extension, as ZooKeeper does.</summary>
    public string? KeyStoreType { get; set; }

    /// <summary>ssl.trustStore.location: the certificates client certificates must chain to; none means the system's.</summary>
    public string? TrustStoreLocation { get; set; }

    /// <summary>ssl.trustStore.password.</summary>
    public string? TrustStorePassword { get; set; }

    /// <summary>ssl.trustStore.type: PEM or PKCS12.</summary>
    public string? TrustStoreType { get; set; }

    /// <summary>ssl.clientAuth; ZooKeeper's default is need.</summary>
    public ClientAuth ClientAuth { get; set; } = ClientAuth.Need;
}
