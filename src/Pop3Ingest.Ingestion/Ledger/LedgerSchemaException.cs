namespace Pop3Ingest.Ingestion.Ledger;

/// <summary>The ledger's schema cannot be used by this program (newer than it knows, or damaged).</summary>
public sealed class LedgerSchemaException(string message) : Exception(message);
