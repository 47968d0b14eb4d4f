namespace Pop3Ingest.Ingestion.Ledger;

/// <summary>The ledger's columns as SQL holds them (times as Unix milliseconds), and how the SQLite ledger reads a row back.</summary>
internal static class LedgerRecord
{
    public const string Columns =
        "account, uidl, blob_name, state, first_seen, size, sha256, attempts, last_error, stored_at, notified_at, deleted_at, updated_at, generation, list_size";

    /// <summary>Reads a row selected with <see cref="Columns"/>, in that order, straight into the domain type.</summary>
    public static LedgerRow Read(System.Data.Common.DbDataReader reader, string account) => new()
    {
        Account = account,
        Uidl = reader.GetString(1),
        BlobName = reader.GetString(2),
        State = StateOf(reader.GetString(3)),
        FirstSeen = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
        Size = reader.IsDBNull(5) ? null : reader.GetInt64(5),
        Sha256 = reader.IsDBNull(6) ? null : reader.GetString(6),
        Attempts = (int)reader.GetInt64(7),
        LastError = reader.IsDBNull(8) ? null : reader.GetString(8),
        StoredAt = reader.IsDBNull(9) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
        NotifiedAt = reader.IsDBNull(10) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)),
        DeletedAt = reader.IsDBNull(11) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(11)),
        UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(12)),
        Generation = (int)reader.GetInt64(13),
        ListSize = reader.IsDBNull(14) ? null : reader.GetInt64(14),
    };

    private static LedgerState StateOf(string state) => state switch
    {
        nameof(LedgerState.Pending) => LedgerState.Pending,
        nameof(LedgerState.Stored) => LedgerState.Stored,
        nameof(LedgerState.Notified) => LedgerState.Notified,
        nameof(LedgerState.Deleted) => LedgerState.Deleted,
        _ => Enum.Parse<LedgerState>(state),
    };
}
