using System.Data.Common;

namespace Pop3Ingest.Ingestion.Ledger;

/// <summary>
/// The ledger's file is no longer the one at its path (deleted, or replaced by another file) while the worker uses it.
/// A database failure like any other to its callers: the run fails as a ledger failure and nothing is deleted.
/// </summary>
public sealed class LedgerFileReplacedException(string message) : DbException(message);
