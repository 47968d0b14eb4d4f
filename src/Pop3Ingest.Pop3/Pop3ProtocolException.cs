namespace Pop3Ingest.Pop3;

/// <summary>
/// The server sent something that is not POP3 (garbage, an overlong line, a response out of turn, a message
/// that ended early). The client closed the session: nothing more it says can be trusted.
/// </summary>
public sealed class Pop3ProtocolException : Pop3Exception
{
    /// <summary>Creates the exception.</summary>
    public Pop3ProtocolException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>A server that broke the protocol once may do it again; another run may meet a healthy server.</summary>
    public override bool IsTransient => true;

    /// <inheritdoc/>
    public override bool SessionBroken => true;
}
