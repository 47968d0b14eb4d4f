namespace Pop3Ingest.Pop3;

/// <summary>Where and how to connect. Immutable once the client is created.</summary>
public sealed record Pop3ClientOptions
{
    /// <summary>Host name or address of the server.</summary>
    public required string Host { get; init; }

    /// <summary>TCP port; 0 means 995 with <see cref="Pop3Security.Tls"/> and 110 otherwise.</summary>
    public int Port { get; init; }

    /// <summary>How the connection is protected. Default: implicit TLS.</summary>
    public Pop3Security Security { get; init; } = Pop3Security.Tls;

    /// <summary>
    /// Allow a password, an APOP digest or a token over a connection that is not encrypted.
    /// Off by default: the client refuses to authenticate in clear text.
    /// </summary>
    public bool AllowInsecureAuth { get; init; }

    /// <summary>
    /// Pin the server certificate: its SHA-256 fingerprint as hex (colons and case ignored). A pinned
    /// certificate is accepted whatever its chain and name; any other certificate is refused.
    /// </summary>
    public string? CertificateSha256 { get; init; }

    /// <summary>Path of a PEM file with extra trusted root certificates (a private CA). Host names are still checked.</summary>
    public string? CaFile { get; init; }

    /// <summary>Name checked against the certificate and sent as SNI; defaults to <see cref="Host"/>.</summary>
    public string? TlsServerName { get; init; }

    /// <summary>
    /// Bounds every read and write, and the whole response of every command that carries no message data.
    /// Default one minute.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Bounds the whole session, from connect to QUIT. Default 30 minutes.</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Longest status or listing line accepted, CRLF included. RFC 2449 §4 allows 512 octets; the default
    /// tolerates servers that exceed it while still stopping a line that never ends.
    /// </summary>
    public int MaxLineLength { get; init; } = 8 * 1024;

    /// <summary>Largest CAPA, LIST or UIDL listing accepted, in bytes. Default 64 MiB (about two million messages).</summary>
    public long MaxListingBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Use PIPELINING when the server advertises it (RFC 2449 §6.6). Default true.</summary>
    public bool UsePipelining { get; init; } = true;

    /// <summary>How many RETR commands may be outstanding at once when pipelining. Default 32.</summary>
    public int PipelineDepth { get; init; } = 32;

    /// <summary>
    /// How many bytes of announced (LIST) message size may be outstanding at once when pipelining RETR.
    /// Default 8 MiB: a failure mid-batch then drains little.
    /// </summary>
    public long PipelineBytes { get; init; } = 8L * 1024 * 1024;

    /// <summary>Size of the receive buffer. Default 64 KiB.</summary>
    public int ReceiveBufferSize { get; init; } = 64 * 1024;

    /// <summary>
    /// Receives the protocol trace: every command (with credentials redacted) and every status line.
    /// Message contents are never passed. Null: no trace.
    /// </summary>
    public IPop3Trace? Trace { get; init; }

    public int EffectivePort => Port != 0 ? Port : Security == Pop3Security.Tls ? 995 : 110;

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Host);
        if (Port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(Port), Port, "Port must be between 0 and 65535.");
        }

        if (Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, "Timeout must be positive.");
        }

        if (SessionTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(SessionTimeout), SessionTimeout, "SessionTimeout must be positive.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxLineLength, 64);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxListingBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(PipelineDepth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ReceiveBufferSize, 1024);
    }
}
