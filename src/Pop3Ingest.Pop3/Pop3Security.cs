namespace Pop3Ingest.Pop3;

/// <summary>How the connection to the POP3 server is protected.</summary>
public enum Pop3Security
{
    /// <summary>Implicit TLS from the first byte (RFC 8314, port 995).</summary>
    Tls,

    /// <summary>Plain connection upgraded with STLS (RFC 2595); fails when the server does not offer it.</summary>
    StartTls,

    /// <summary>STLS when the server advertises it, otherwise stays in clear text.</summary>
    StartTlsIfAvailable,

    /// <summary>No encryption at all.</summary>
    None,
}
