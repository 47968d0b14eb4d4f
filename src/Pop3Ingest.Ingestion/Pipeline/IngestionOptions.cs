namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>Settings shared by every run.</summary>
public sealed record IngestionOptions
{
    /// <summary>Failed attempts before a message is quarantined (src/README.md, "Guarantees in the code").</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>Write the {id}.json metadata sidecar beside each blob.</summary>
    public bool Sidecar { get; init; } = true;

    /// <summary>How long Deleted rows are kept.</summary>
    public TimeSpan PruneAfter { get; init; } = TimeSpan.FromDays(30);

    /// <summary>How many stored messages share one group commit (directory sync + one ledger transaction).</summary>
    public int GroupCommitSize { get; init; } = 64;

    /// <summary>The longest a stored message waits for its group commit.</summary>
    public TimeSpan GroupCommitInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Overlapped uploads (a store far away); null: each message is stored before the next is read.</summary>
    public UploadOverlap? Uploads { get; init; }

    /// <summary>Queue messages of one group commit sent at once (<c>Notifications:MaxSendsInFlight</c>); 1: one after the other.</summary>
    public int MaxSendsInFlight { get; init; } = 64;
}
