namespace Pop3Ingest.Ingestion.Ledger;

/// <summary>One message of one account, keyed by (account, UIDL).</summary>
public sealed record LedgerRow
{
    public required string Account { get; init; }

    /// <summary>The UIDL, each byte as the Latin-1 code point of the same value.</summary>
    public required string Uidl { get; init; }

    /// <summary>The blob name, decided before the download and never changed.</summary>
    public required string BlobName { get; init; }

    public required LedgerState State { get; init; }

    public required DateTimeOffset FirstSeen { get; init; }

    public long? Size { get; init; }

    public string? Sha256 { get; init; }

    public int Attempts { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset? StoredAt { get; init; }

    public DateTimeOffset? NotifiedAt { get; init; }

    public DateTimeOffset? DeletedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }
}
