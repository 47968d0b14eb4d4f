namespace Pop3Ingest.Ingestion.Ledger;

/// <summary>
/// The ledger port: the durable record of what happened to each message. Every state change is a conditional
/// update, so that two writers can never move a row backwards. State changes name a UIDL, not a generation: every
/// generation but a UIDL's newest is Deleted, and no change moves a Deleted row, so each reaches the newest alone.
/// </summary>
public interface ILedger
{
    /// <summary>Creates or upgrades the schema; refuses a schema newer than this program.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>Checks that the ledger answers (readiness).</summary>
    Task PingAsync(CancellationToken cancellationToken);

    /// <summary>Proves the ledger can be written: a row written in a transaction that is rolled back.</summary>
    Task ProbeWriteAsync(CancellationToken cancellationToken);

    /// <summary>
    /// What <c>check</c> reports, changing nothing: whether the ledger exists, its schema version and what the first run
    /// will create or migrate, and (where the schema exists) that it can be written. Throws when it cannot be used.
    /// </summary>
    Task<string> CheckAsync(CancellationToken cancellationToken);

    /// <summary>Every row of an account that is not pruned.</summary>
    Task<IReadOnlyList<LedgerRow>> GetAccountAsync(string account, CancellationToken cancellationToken);

    /// <summary>Inserts rows that do not exist yet (by account, UIDL and generation); existing rows are left alone.</summary>
    Task InsertAsync(IReadOnlyCollection<LedgerRow> rows, CancellationToken cancellationToken);

    /// <summary>Pending → Stored, with size and hash, for many rows in one transaction (a group commit).</summary>
    Task MarkStoredAsync(string account, IReadOnlyCollection<StoredMessage> messages, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Stored → Notified.</summary>
    Task MarkNotifiedAsync(string account, IReadOnlyCollection<string> uidls, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Records the size LIST now announces for a message whose content was checked and found to be the one stored (a
    /// server that changed its size accounting), so that it is not checked again while the size stays.
    /// </summary>
    Task RecordListSizeAsync(string account, IReadOnlyCollection<ListedSize> sizes, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Any state but Seeded/Oversize/Quarantined → Deleted (the server committed, or the UIDL vanished).</summary>
    Task MarkDeletedAsync(string account, IReadOnlyCollection<string> uidls, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Seeded/Oversize/Quarantined rows whose UIDL vanished from the server: removed (someone else deleted them).</summary>
    Task ForgetAsync(string account, IReadOnlyCollection<string> uidls, CancellationToken cancellationToken);

    /// <summary>
    /// Counts a failed attempt on a Pending row and records the error; the row becomes Quarantined when it
    /// reaches <paramref name="maxAttempts"/>. Returns the new state.
    /// </summary>
    Task<LedgerState> RecordFailureAsync(string account, string uidl, string error, int maxAttempts, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Quarantined → Pending with the attempt counter reset (the operator's "retry"). False when no such row.</summary>
    Task<bool> ReleaseAsync(string account, string uidl, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Deletes Deleted rows older than the cutoff. Returns how many.</summary>
    Task<int> PruneAsync(DateTimeOffset deletedBefore, CancellationToken cancellationToken);

    /// <summary>Rows of every account, for export and listing, optionally filtered.</summary>
    IAsyncEnumerable<LedgerRow> ReadAllAsync(string? account, LedgerState? state, CancellationToken cancellationToken);

    /// <summary>Counts per account and state (health, metrics).</summary>
    Task<IReadOnlyList<LedgerCount>> CountAsync(CancellationToken cancellationToken);
}

/// <summary>What the store reported for one message.</summary>
public sealed record StoredMessage(string Uidl, long Size, string Sha256);

/// <summary>The size LIST announced for one generation of a UIDL.</summary>
public sealed record ListedSize(string Uidl, int Generation, long ListSize);

/// <summary>How many rows an account has in a state.</summary>
public sealed record LedgerCount(string Account, LedgerState State, long Count);
