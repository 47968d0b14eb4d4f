namespace Pop3Ingest.Ingestion.Ledger;

/// <summary>
/// One message of one account, keyed by (account, UIDL, generation). A UIDL names a message only while the message is
/// on the server; a UIDL listed again with other content after its message was deleted is a new message, the next
/// generation. Every generation of a UIDL but the newest is Deleted.
/// </summary>
public sealed record LedgerRow
{
    public required string Account { get; init; }

    /// <summary>The UIDL, each byte as the Latin-1 code point of the same value.</summary>
    public required string Uidl { get; init; }

    /// <summary>0 for the first message seen under this UIDL; one more for each message that reused it.</summary>
    public int Generation { get; init; }

    /// <summary>The blob name, decided before the download and never changed.</summary>
    public required string BlobName { get; init; }

    public required LedgerState State { get; init; }

    public required DateTimeOffset FirstSeen { get; init; }

    /// <summary>The size in bytes once stored (after dot-unstuffing); before that, the size LIST announced.</summary>
    public long? Size { get; init; }

    /// <summary>
    /// The size LIST announced when the row was written (null for rows from before this column existed). A listing that
    /// announces another size for the UIDL may be another message: it is checked by content before any DELE.
    /// </summary>
    public long? ListSize { get; init; }

    public string? Sha256 { get; init; }

    public int Attempts { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset? StoredAt { get; init; }

    public DateTimeOffset? NotifiedAt { get; init; }

    public DateTimeOffset? DeletedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }
}
