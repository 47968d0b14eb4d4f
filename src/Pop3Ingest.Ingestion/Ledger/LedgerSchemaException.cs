namespace Pop3Ingest.Ingestion.Ledger;

/// <summary>The ledger's schema cannot be used by this program (newer than it knows, or damaged).</summary>
public sealed class LedgerSchemaException(string message) : Exception(message)
{
    /// <summary>A schema newer than this program: what migration and <c>check</c> both refuse.</summary>
    public static LedgerSchemaException Newer(long current, int latest) => new(
        $"The ledger database has schema version {current}, newer than this program knows ({latest}). " +
        "Upgrade Pop3Ingest, or point Ledger:ConnectionString at another database.");
}
