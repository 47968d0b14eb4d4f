namespace Pop3Ingest.Ingestion.Ledger;

/// <summary>The row as SQL holds it (times as Unix milliseconds); Dapper maps to this, never to the domain type.</summary>
internal sealed class LedgerRecord
{
    public string Account { get; set; } = string.Empty;

    public string Uidl { get; set; } = string.Empty;

    public string Blob_Name { get; set; } = string.Empty;

    public string State { get; set; } = string.Empty;

    public long First_Seen { get; set; }

    public long? Size { get; set; }

    public string? Sha256 { get; set; }

    public long Attempts { get; set; }

    public string? Last_Error { get; set; }

    public long? Stored_At { get; set; }

    public long? Notified_At { get; set; }

    public long? Deleted_At { get; set; }

    public long Updated_At { get; set; }

    public const string Columns =
        "account, uidl, blob_name, state, first_seen, size, sha256, attempts, last_error, stored_at, notified_at, deleted_at, updated_at";

    public LedgerRow ToRow() => new()
    {
        Account = Account,
        Uidl = Uidl,
        BlobName = Blob_Name,
        State = Enum.Parse<LedgerState>(State),
        FirstSeen = DateTimeOffset.FromUnixTimeMilliseconds(First_Seen),
        Size = Size,
        Sha256 = Sha256,
        Attempts = (int)Attempts,
        LastError = Last_Error,
        StoredAt = Stored_At is { } s ? DateTimeOffset.FromUnixTimeMilliseconds(s) : null,
        NotifiedAt = Notified_At is { } n ? DateTimeOffset.FromUnixTimeMilliseconds(n) : null,
        DeletedAt = Deleted_At is { } d ? DateTimeOffset.FromUnixTimeMilliseconds(d) : null,
        UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(Updated_At),
    };

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
    };

    private static LedgerState StateOf(string state) => state switch
    {
        nameof(LedgerState.Pending) => LedgerState.Pending,
        nameof(LedgerState.Stored) => LedgerState.Stored,
        nameof(LedgerState.Notified) => LedgerState.Notified,
        nameof(LedgerState.Deleted) => LedgerState.Deleted,
        _ => Enum.Parse<LedgerState>(state),
    };

    public static object Parameters(LedgerRow row) => new
    {
        account = row.Account,
        uidl = row.Uidl,
        blob_name = row.BlobName,
        state = row.State.ToString(),
        first_seen = row.FirstSeen.ToUnixTimeMilliseconds(),
        size = row.Size,
        sha256 = row.Sha256,
        attempts = (long)row.Attempts,
        last_error = row.LastError,
        stored_at = row.StoredAt?.ToUnixTimeMilliseconds(),
        notified_at = row.NotifiedAt?.ToUnixTimeMilliseconds(),
        deleted_at = row.DeletedAt?.ToUnixTimeMilliseconds(),
        updated_at = row.UpdatedAt.ToUnixTimeMilliseconds(),
    };
}
