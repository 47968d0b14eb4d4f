using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Dapper;
using Npgsql;

namespace Pop3Ingest.Ingestion.Ledger.Postgres;

/// <summary>
/// The shared ledger for several instances: the same rows, states and rules as <see cref="Sqlite.SqliteLedger"/>, on
/// PostgreSQL. Every state change is a conditional update (<c>WHERE state = ...</c>) and every insert is
/// <c>ON CONFLICT DO NOTHING</c>, so two instances that ever touch one account cannot move a row backwards or create
/// it twice. Versioned migration scripts are embedded and tracked in <c>pop3ingest_schema</c>; they are applied
/// under an advisory lock so that instances starting together do not race.
/// </summary>
internal sealed class PostgresLedger : ILedger, IAsyncDisposable, IDisposable
{
    /// <summary>
    /// The advisory lock every instance takes while migrating ("P3IG" in ASCII). Transaction-scoped: a crashed
    /// migration releases it with its connection.
    /// </summary>
    public const long MigrationLockKey = 0x50_33_49_47;

    private const string Terminal = "('Seeded','Oversize','Quarantined')";
    private const string Table = "pop3ingest_messages";
    private readonly NpgsqlDataSource _dataSource;

    public PostgresLedger(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            // Shows in pg_stat_activity, so an operator can tell the ledger's connections from Quartz's.
            builder.ApplicationName = "Pop3Ingest ledger";
        }

        _dataSource = NpgsqlDataSource.Create(builder);
    }

    public static IReadOnlyList<(int Version, string Sql)> Migrations { get; } = LoadMigrations();

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // PostgreSQL's DDL is transactional: the lock, the version check and every script commit or roll back together.
        await connection.ExecuteAsync(new CommandDefinition(
            "SELECT pg_advisory_xact_lock(@key);", new { key = MigrationLockKey }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(
            "CREATE TABLE IF NOT EXISTS pop3ingest_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());",
            transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var current = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            "SELECT coalesce(max(version), 0) FROM pop3ingest_schema;", transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var latest = Migrations[^1].Version;
        if (current > latest)
        {
            throw new LedgerSchemaException(
                $"The ledger database has schema version {current}, newer than this program knows ({latest}). " +
                "Upgrade Pop3Ingest, or point Ledger:ConnectionString at another database.");
        }

        foreach (var (version, sql) in Migrations.Where(m => m.Version > current))
        {
            await connection.ExecuteAsync(new CommandDefinition(sql, transaction: transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO pop3ingest_schema (version) VALUES (@version);", new { version }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM {Table} WHERE false;", cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<LedgerRow>> GetAccountAsync(string account, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var records = await connection.QueryAsync<Record>(new CommandDefinition(
            $"SELECT {Record.Columns} FROM {Table} WHERE account = @account;", new { account }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return records.Select(r => r.ToRow()).ToList();
    }

    public async Task InsertAsync(IReadOnlyCollection<LedgerRow> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var sql = $"INSERT INTO {Table} ({Record.Columns}) VALUES (@account, @uidl, @blob_name, @state, @first_seen, @size, @sha256, @attempts, @last_error, @stored_at, @notified_at, @deleted_at, @updated_at) ON CONFLICT (account, uidl) DO NOTHING;";

        // One order for every writer, so that two transactions touching the same keys wait for each other instead of deadlocking.
        foreach (var row in rows.OrderBy(r => r.Account, StringComparer.Ordinal).ThenBy(r => r.Uidl, StringComparer.Ordinal))
        {
            await connection.ExecuteAsync(new CommandDefinition(sql, Record.Parameters(row), transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task MarkStoredAsync(string account, IReadOnlyCollection<StoredMessage> messages, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return;
        }

        var now = at.ToUnixTimeMilliseconds();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var message in messages.OrderBy(m => m.Uidl, StringComparer.Ordinal))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                $"UPDATE {Table} SET state = 'Stored', size = @size, sha256 = @sha256, stored_at = @now, updated_at = @now, last_error = NULL " +
                "WHERE account = @account AND uidl = @uidl AND state = 'Pending';",
                new { account, uidl = Encode(message.Uidl), size = message.Size, sha256 = message.Sha256, now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task MarkNotifiedAsync(string account, IReadOnlyCollection<string> uidls, DateTimeOffset at, CancellationToken cancellationToken) =>
        UpdateManyAsync(
            $"UPDATE {Table} SET state = 'Notified', notified_at = @now, updated_at = @now WHERE account = @account AND uidl = @uidl AND state = 'Stored';",
            account, uidls, at, cancellationToken);

    public Task MarkDeletedAsync(string account, IReadOnlyCollection<string> uidls, DateTimeOffset at, CancellationToken cancellationToken) =>
        UpdateManyAsync(
            $"UPDATE {Table} SET state = 'Deleted', deleted_at = @now, updated_at = @now WHERE account = @account AND uidl = @uidl AND state NOT IN {Terminal} AND state <> 'Deleted';",
            account, uidls, at, cancellationToken);

    public Task ForgetAsync(string account, IReadOnlyCollection<string> uidls, CancellationToken cancellationToken) =>
        UpdateManyAsync(
            $"DELETE FROM {Table} WHERE account = @account AND uidl = @uidl AND state IN {Terminal};",
            account, uidls, DateTimeOffset.UtcNow, cancellationToken);

    public async Task<LedgerState> RecordFailureAsync(string account, string uidl, string error, int maxAttempts, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var state = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            $"UPDATE {Table} SET attempts = attempts + 1, last_error = @error, updated_at = @now, " +
            "state = CASE WHEN attempts + 1 >= @maxAttempts THEN 'Quarantined' ELSE state END " +
            "WHERE account = @account AND uidl = @uidl AND state = 'Pending' RETURNING state;",
            new { account, uidl = Encode(uidl), error = CleanText(error), maxAttempts, now = at.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return state is null ? LedgerState.Pending : Enum.Parse<LedgerState>(state);
    }

    public async Task<bool> ReleaseAsync(string account, string uidl, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE {Table} SET state = 'Pending', attempts = 0, updated_at = @now WHERE account = @account AND uidl = @uidl AND state = 'Quarantined';",
            new { account, uidl = Encode(uidl), now = at.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return changed > 0;
    }

    public async Task<int> PruneAsync(DateTimeOffset deletedBefore, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM {Table} WHERE state = 'Deleted' AND deleted_at < @cutoff;",
            new { cutoff = deletedBefore.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<LedgerRow> ReadAllAsync(string? account, LedgerState? state, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // The casts type the parameters when they are NULL, which PostgreSQL cannot infer from "IS NULL".
        var sql = $"SELECT {Record.Columns} FROM {Table} WHERE (@account::text IS NULL OR account = @account::text) AND (@state::text IS NULL OR state = @state::text) ORDER BY account, first_seen, uidl;";
        await using var reader = await connection.ExecuteReaderAsync(new CommandDefinition(
            sql, new { account, state = state?.ToString() }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        var parser = reader.GetRowParser<Record>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return parser(reader).ToRow();
        }
    }

    public async Task<IReadOnlyList<LedgerCount>> CountAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var rows = await connection.QueryAsync<(string Account, string State, long Count)>(new CommandDefinition(
            $"SELECT account, state, count(*) FROM {Table} GROUP BY account, state;", cancellationToken: cancellationToken)).ConfigureAwait(false);
        return rows.Select(r => new LedgerCount(r.Account, Enum.Parse<LedgerState>(r.State), r.Count)).ToList();
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    public void Dispose() => _dataSource.Dispose();

    /// <summary>A UIDL's bytes: <see cref="LedgerRow.Uidl"/> holds each byte as the Latin-1 code point of the same value.</summary>
    internal static byte[] Encode(string uidl) => Encoding.Latin1.GetBytes(uidl);

    internal static string Decode(byte[] uidl) => Encoding.Latin1.GetString(uidl);

    private async Task UpdateManyAsync(string sql, string account, IReadOnlyCollection<string> uidls, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (uidls.Count == 0)
        {
            return;
        }

        var now = at.ToUnixTimeMilliseconds();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var uidl in uidls.Order(StringComparer.Ordinal))
        {
            await connection.ExecuteAsync(new CommandDefinition(sql, new { account, uidl = Encode(uidl), now }, transaction, cancellationToken: cancellationToken)).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An error message may quote a server's bytes; PostgreSQL text cannot hold NUL, and 2000 characters are plenty.</summary>
    private static string? CleanText(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var clean = text.Replace('\0', '\uFFFD');
        return clean.Length <= 2000 ? clean : clean[..2000];
    }

    private static List<(int Version, string Sql)> LoadMigrations()
    {
        var assembly = typeof(PostgresLedger).Assembly;
        const string prefix = "Pop3Ingest.Ingestion.Ledger.Postgres.Migrations.";
        var list = new List<(int, string)>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var file = name[prefix.Length..];
            var version = int.Parse(file.AsSpan(0, 4), provider: CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            list.Add((version, reader.ReadToEnd()));
        }

        if (list.Count == 0)
        {
            throw new InvalidOperationException("No PostgreSQL ledger migrations are embedded.");
        }

        return list;
    }

    /// <summary>The row as PostgreSQL holds it (UIDL as bytea, times as Unix milliseconds); Dapper maps to this.</summary>
    private sealed class Record
    {
        public const string Columns = LedgerRecord.Columns;

        public string Account { get; set; } = string.Empty;

        public byte[] Uidl { get; set; } = [];

        public string Blob_Name { get; set; } = string.Empty;

        public string State { get; set; } = string.Empty;

        public long First_Seen { get; set; }

        public long? Size { get; set; }

        public string? Sha256 { get; set; }

        public int Attempts { get; set; }

        public string? Last_Error { get; set; }

        public long? Stored_At { get; set; }

        public long? Notified_At { get; set; }

        public long? Deleted_At { get; set; }

        public long Updated_At { get; set; }

        public LedgerRow ToRow() => new()
        {
            Account = Account,
            Uidl = Decode(Uidl),
            BlobName = Blob_Name,
            State = Enum.Parse<LedgerState>(State),
            FirstSeen = DateTimeOffset.FromUnixTimeMilliseconds(First_Seen),
            Size = Size,
            Sha256 = Sha256,
            Attempts = Attempts,
            LastError = Last_Error,
            StoredAt = Stored_At is { } s ? DateTimeOffset.FromUnixTimeMilliseconds(s) : null,
            NotifiedAt = Notified_At is { } n ? DateTimeOffset.FromUnixTimeMilliseconds(n) : null,
            DeletedAt = Deleted_At is { } d ? DateTimeOffset.FromUnixTimeMilliseconds(d) : null,
            UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(Updated_At),
        };

        public static object Parameters(LedgerRow row) => new
        {
            account = row.Account,
            uidl = Encode(row.Uidl),
            blob_name = row.BlobName,
            state = row.State.ToString(),
            first_seen = row.FirstSeen.ToUnixTimeMilliseconds(),
            size = row.Size,
            sha256 = row.Sha256,
            attempts = row.Attempts,
            last_error = CleanText(row.LastError),
            stored_at = row.StoredAt?.ToUnixTimeMilliseconds(),
            notified_at = row.NotifiedAt?.ToUnixTimeMilliseconds(),
            deleted_at = row.DeletedAt?.ToUnixTimeMilliseconds(),
            updated_at = row.UpdatedAt.ToUnixTimeMilliseconds(),
        };
    }
}
