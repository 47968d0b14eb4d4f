namespace Pop3Ingest.Ingestion.Ledger;

/// <summary>
/// Where a message stands (ARCHITECTURE.md §4). Stored as text so the ledger reads well in SQL.
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
