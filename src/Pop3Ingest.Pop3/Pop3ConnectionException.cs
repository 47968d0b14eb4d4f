namespace Pop3Ingest.Pop3;

/// <summary>
/// The connection failed: it could not be opened, it was reset or closed, or a read, a write or the session
/// ran out of time. The session is closed.
/// </summary>
public sealed class Pop3ConnectionException : Pop3Exception
{
    /// <summary>Creates the exception.</summary>
    public Pop3ConnectionException(string message, Exception? innerException = null, bool isTimeout = false)
        : base(message, innerException)
    {
        IsTimeout = isTimeout;
    }

    /// <summary>True when a timeout (per operation, or the session deadline) ended the session.</summary>
    public bool IsTimeout { get; }

    /// <inheritdoc/>
    public override bool IsTransient => true;

    /// <inheritdoc/>
    public override bool SessionBroken => true;
}
