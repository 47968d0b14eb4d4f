using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Mailbox.Pop1;
using Pop3Ingest.Ingestion.Mailbox.Pop3;
using Pop3Ingest.Ingestion.Pipeline;

namespace Pop3Ingest.Ingestion.Mailbox;

/// <summary>Opens the session an account's protocol speaks: the one place a new mailbox protocol is added.</summary>
public static class MailboxSessions
{
    /// <summary>A new, unopened session for the account; its wire trace goes to <paramref name="logger"/> at Trace level.</summary>
    public static IMailboxSession Create(AccountSettings account, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        var trace = logger is null ? null : new LoggerPop3Trace(logger, account.Name);
        return account.Protocol switch
        {
            MailboxProtocol.Pop1 => new Pop1MailboxSession(account, trace),
            _ => new Pop3MailboxSession(account, trace),
        };
    }
}
