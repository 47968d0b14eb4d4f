namespace Pop3Ingest.Ingestion.Ledger;

/// <summary>
/// Where a message stands (src/README.md, "Guarantees in the code"). Stored as text so the ledger reads well in SQL.
/// Pending → Stored → Notified → Deleted; Quarantined after too many failures; Seeded and Oversize are
/// never downloaded and never deleted by the worker.
/// </summary>
public enum LedgerState
{
    Pending,
    Stored,
    Notified,
    Deleted,
    Quarantined,
    Seeded,
    Oversize,
}
