namespace Pop3Ingest.Worker.Options;

/// <summary>The values of <c>Pop3Ingest:Ledger:Provider</c>.</summary>
internal static class LedgerProviders
{
    /// <summary>A file next to the process: one instance.</summary>
    public const string Sqlite = "Sqlite";

    /// <summary>A database shared by several instances (with <c>Scheduler:Clustered</c>).</summary>
    public const string Postgres = "Postgres";
}
