namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>
/// The delete policy, in one place: whether a message stored at a given time may be deleted from the server now. The
/// plan asks it of rows stored by earlier runs, the group commit of messages it has just made durable.
/// </summary>
internal static class DeleteRule
{
    /// <summary>Whether a message stored at <paramref name="storedAt"/> may be deleted at <paramref name="now"/>.</summary>
    public static bool MayDelete(AccountSettings account, DateTimeOffset storedAt, DateTimeOffset now) => account.DeletePolicy switch
    {
        DeletePolicy.AfterStore => true,
        DeletePolicy.AfterDays => storedAt + account.DeleteAfter <= now,
        _ => false,
    };

    /// <summary>The same for a ledger row (a row from before stored times were kept counts from when it was first seen).</summary>
    public static bool MayDelete(AccountSettings account, Ledger.LedgerRow row, DateTimeOffset now) => MayDelete(account, row.StoredAt ?? row.FirstSeen, now);
}
