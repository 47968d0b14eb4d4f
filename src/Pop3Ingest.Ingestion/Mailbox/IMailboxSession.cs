namespace Pop3Ingest.Ingestion.Mailbox;

/// <summary>
/// The mailbox port: one session with a mail server, as a run uses it. Shaped for three protocols: POP3 with UIDLs
/// (identities and sizes listed up front, messages retrieved in order, deleted one by one, committed by QUIT), POP3
/// without UIDLs (sizes listed, identities known only after download) and RFC 918 POP1 (one transaction over the whole
/// mailbox: nothing listed, identities known only after download, deletion of everything at commit). Every failure is a
/// <see cref="MailboxException"/>; cancellation tokens come last.
/// </summary>
public interface IMailboxSession : IAsyncDisposable
{
    /// <summary>The protocol's name for logs and <c>check</c> ("POP3", "POP1").</summary>
    string Protocol { get; }

    /// <summary>How this protocol deletes: message by message, or the whole mailbox at commit.</summary>
    MailboxDeletion Deletion { get; }

    /// <summary>Whether the session can still carry commands (false after a drop or a protocol error).</summary>
    bool IsUsable { get; }

    /// <summary>Connects and authenticates; a busy maildrop is a <see cref="MailboxFailure.Busy"/> failure.</summary>
    Task OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// What the mailbox holds now. <see cref="MailboxListing.Ids"/> is null when the server gives no identities up front
    /// (POP3 without UIDL: the listing says so, with the server's reason, and nothing is thrown);
    /// <see cref="MailboxListing.Sizes"/> is null when nothing is listed before download (POP1).
    /// </summary>
    Task<MailboxListing> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Retrieves messages in order, each as a stream to read to its end (or <see cref="MailboxMessage.DrainAsync"/>)
    /// before the next is asked for. <paramref name="numbers"/> null: the whole mailbox (the only form POP1 has).
    /// A refusal of one message is reported on it (<see cref="MailboxMessage.Refusal"/>) and the session goes on.
    /// </summary>
    IAsyncEnumerable<MailboxMessage> RetrieveAsync(IReadOnlyList<MailboxSize>? numbers, CancellationToken cancellationToken);

    /// <summary>Marks messages for deletion (<see cref="MailboxDeletion.PerMessage"/> only); nothing is deleted before <see cref="CommitAsync"/>.</summary>
    Task<IReadOnlyList<MailboxDeleteResult>> MarkDeletedAsync(IReadOnlyList<int> numbers, CancellationToken cancellationToken);

    /// <summary>
    /// Ends the session and commits what was marked (POP3: QUIT) or, with <see cref="MailboxDeletion.WholeMailbox"/> and
    /// <paramref name="deleteWholeMailbox"/>, the deletion of everything retrieved (POP1: RCVD, QUIT). Returns whether the
    /// server said it committed; false: nothing was deleted.
    /// </summary>
    Task<bool> CommitAsync(bool deleteWholeMailbox, CancellationToken cancellationToken);

    /// <summary>Ends the session without deleting anything (errors ignored: nothing was committed).</summary>
    Task AbandonAsync(CancellationToken cancellationToken);

    /// <summary>What <c>check</c> prints for an open session: encryption, message count and size, capabilities.</summary>
    Task<string> DescribeAsync(CancellationToken cancellationToken);
}

/// <summary>How a protocol deletes messages.</summary>
public enum MailboxDeletion
{
    /// <summary>Each message is marked on its own; the marks are committed together (POP3: DELE, then QUIT).</summary>
    PerMessage,

    /// <summary>Everything retrieved in the transaction is deleted at commit, or nothing is (POP1: RDEL, then RCVD).</summary>
    WholeMailbox,
}

/// <summary>The mailbox as listed: the identities and sizes exactly as the server gave them (checked by the plan, not here).</summary>
/// <param name="Ids">Message number and identity (a UIDL), or null when the server gives none up front.</param>
/// <param name="Sizes">Message number and announced size, or null when nothing is listed before download.</param>
public sealed record MailboxListing(IReadOnlyList<MailboxId>? Ids, IReadOnlyList<MailboxSize>? Sizes)
{
    /// <summary>Why <see cref="Ids"/> is null, in the server's words (POP3: the -ERR to UIDL).</summary>
    public string? NoIdsReason { get; init; }
}

/// <summary>A message's number in this session and its identity (UIDL).</summary>
public readonly record struct MailboxId(int Number, string Id);

/// <summary>A message's number in this session and the size the server announced (a hint: never allocate by it).</summary>
public readonly record struct MailboxSize(int Number, long Size);

/// <summary>The answer to marking one message: null refusal means marked.</summary>
public readonly record struct MailboxDeleteResult(int Number, string? Refusal)
{
    public bool Marked => Refusal is null;
}
