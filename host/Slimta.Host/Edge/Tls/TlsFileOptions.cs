namespace Slimta.Host.Edge.Tls;

/// <summary>The edge's certificate files (<c>tls: {certfile, keyfile, ca_certs}</c>), PEM, as configured (relative to the config file).</summary>
/// <param name="CertFile">The server certificate (<c>certfile</c>); may also hold the key.</param>
/// <param name="KeyFile">The private key (<c>keyfile</c>); null when <paramref name="CertFile"/> holds it.</param>
/// <param name="CaCerts">Intermediate certificates sent with ours (<c>ca_certs</c>); optional.</param>
public sealed record TlsFileOptions(string CertFile, string? KeyFile, string? CaCerts);
