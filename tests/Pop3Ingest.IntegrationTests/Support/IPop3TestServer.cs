using Pop3Ingest.Pop3;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>
/// A real POP3 server started by a test: a free loopback port, a private configuration and one test mailbox.
/// Every implementation fails (never skips) when its server is not installed, naming deploy/local/install-test-deps.sh.
/// Disposing it kills every process it started and removes its folder.
/// </summary>
public interface IPop3TestServer : IAsyncDisposable
{
    /// <summary>Short lower-case name, also the account name in ingestion tests ("courier").</summary>
    string Name { get; }

    /// <summary>The Debian package that holds the POP3 daemon.</summary>
    string Package { get; }

    /// <summary>That package's version.</summary>
    string Version { get; }

    string Host { get; }

    /// <summary>Plain POP3 listener (STLS there when <see cref="OffersStls"/>).</summary>
    int Port { get; }

    /// <summary>Implicit-TLS listener, when the harness opens one.</summary>
    int? TlsPort { get; }

    /// <summary>The listener advertises STLS (RFC 2595) with the certificate made for this instance.</summary>
    bool OffersStls { get; }

    /// <summary>SHA-256 of the certificate (lower-case hex), for <see cref="Pop3ClientOptions.CertificateSha256"/>; null without TLS.</summary>
    string? CertificateSha256 { get; }

    string User { get; }

    string Password { get; }

    /// <summary>The APOP shared secret when the server is set up for APOP (RFC 1939 §7); null otherwise.</summary>
    string? ApopSecret { get; }

    /// <summary>What CAPA is expected to advertise; <see cref="Pop3CapabilityFlags.None"/> for a server without CAPA.</summary>
    Pop3CapabilityFlags ExpectedCapabilities { get; }

    /// <summary>SASL mechanisms the client supports (PLAIN, LOGIN) that the server is expected to offer.</summary>
    IReadOnlyList<string> ExpectedSaslMechanisms { get; }

    /// <summary>Delivers one message (LF line ends) into the test mailbox the way the server's own delivery does.</summary>
    Task DeliverAsync(byte[] message, CancellationToken cancellationToken = default);

    /// <summary>Messages in the mailbox, read from its storage (not over POP3, which may change it).</summary>
    Task<int> MessageCountAsync(CancellationToken cancellationToken = default);

    /// <summary>The last lines the server wrote, for assertion messages.</summary>
    string DiagnosticsTail(int lines = 40);
}
