using Pop3Ingest.Ingestion.Mailbox;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>Everything one ingestion run needs to know about its account, resolved from configuration.</summary>
public sealed record AccountSettings
{
    /// <summary>The account name in lower case, as used in paths and the ledger.</summary>
    public required string Name { get; init; }

    /// <summary>The protocol the account speaks (<see cref="MailboxProtocol.Pop3"/> unless configured).</summary>
    public MailboxProtocol Protocol { get; init; } = MailboxProtocol.Pop3;

    /// <summary>POP1: the mailbox name sent with RETR or RDEL.</summary>
    public string? Mailbox { get; init; }

    public required Pop3ClientOptions Client { get; init; }

    /// <summary>Gets the credentials at the start of each run (a password file may change, a token expires).</summary>
    public required Func<CancellationToken, ValueTask<Pop3Credentials>> Credentials { get; init; }

    public Pop3AuthMethod Auth { get; init; } = Pop3AuthMethod.Auto;

    public DeletePolicy DeletePolicy { get; init; } = DeletePolicy.AfterStore;

    /// <summary>With <see cref="DeletePolicy.AfterDays"/>: how long a stored message stays on the server.</summary>
    public TimeSpan DeleteAfter { get; init; }

    /// <summary>Accept a server without UIDL: content hashes become ids (needs AfterStore).</summary>
    public bool AllowNoUidl { get; init; }

    /// <summary>At most this many downloads per run; 0 or less means no limit.</summary>
    public int MaxMessagesPerRun { get; init; }

    /// <summary>At most this many bytes (by LIST) of downloads per run; 0 or less means no limit.</summary>
    public long MaxBytesPerRun { get; init; }

    /// <summary>Larger messages are left on the server and recorded as Oversize; 0 or less means no limit.</summary>
    public long MaxMessageBytes { get; init; }
}
