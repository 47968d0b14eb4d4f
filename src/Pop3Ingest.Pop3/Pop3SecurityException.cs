namespace Pop3Ingest.Pop3;

/// <summary>
/// The client refused to go on because the connection is not as secure as configured: the certificate is not
/// trusted, TLS was required but is not available, or credentials would travel in clear text.
/// Retrying will not help without a change of configuration or of the server.
/// </summary>
public sealed class Pop3SecurityException : Pop3Exception
{
    /// <summary>Creates the exception.</summary>
    public Pop3SecurityException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <inheritdoc/>
    public override bool IsTransient => false;

    /// <inheritdoc/>
    public override bool SessionBroken => true;
}
