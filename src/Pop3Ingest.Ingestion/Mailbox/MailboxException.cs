namespace Pop3Ingest.Ingestion.Mailbox;

/// <summary>What went wrong with a mailbox session, as the run needs to know it.</summary>
public enum MailboxFailure
{
    /// <summary>The connection failed or dropped.</summary>
    Connection,

    /// <summary>The server broke the protocol.</summary>
    Protocol,

    /// <summary>The credentials were refused or could not be obtained.</summary>
    Authentication,

    /// <summary>TLS failed, or the session would have sent a secret in clear.</summary>
    Security,

    /// <summary>The maildrop is in use or the server asks to wait before the next login.</summary>
    Busy,

    /// <summary>The server refused a command the run needs.</summary>
    Server,
}

/// <summary>
/// Every failure of a mailbox session, whatever the protocol: the adapter translates its client's errors, and the run's
/// classifier decides what the failure means.
/// </summary>
public sealed class MailboxException(MailboxFailure kind, string message, bool isTransient, Exception? innerException = null)
    : Exception(message, innerException)
{
    public MailboxFailure Kind { get; } = kind;

    /// <summary>True when the same operation may succeed if tried again later.</summary>
    public bool IsTransient { get; } = isTransient;

    /// <summary>The server's response code (RFC 2449 §8), when it gave one (IN-USE, LOGIN-DELAY, ...).</summary>
    public string? ServerCode { get; init; }

    /// <summary>The server's own words, sanitized for logs, when it refused something.</summary>
    public string? ServerText { get; init; }
}
