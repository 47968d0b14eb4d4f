using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Ledger.Sqlite;
using Pop3Ingest.Ingestion.Tests.Contracts;

namespace Pop3Ingest.Ingestion.Tests;

/// <summary>The ledger contract on SQLite: each test a database file of its own, in a folder that does not exist yet.</summary>
public sealed class SqliteLedgerContractTests : LedgerContractTests
{
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-ledger-contract-").FullName;
    private int _databases;

    protected override Task<string> NewDatabaseAsync() =>
        Task.FromResult($"Data Source={Path.Combine(_folder, $"db{Interlocked.Increment(ref _databases)}", "ledger.db")}");

    protected override ILedger Open(string connectionString) => new SqliteLedger(connectionString);

    protected override string ReadOnly(string connectionString) => connectionString + ";Mode=ReadOnly";

    protected override async Task SetSchemaVersionAsync(string connectionString, long version)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await connection.ExecuteAsync($"PRAGMA user_version = {version};");
    }

    protected override bool IsReadOnlyRefusal(DbException error) =>
        error is SqliteException { SqliteErrorCode: 8 }; // SQLITE_READONLY

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}
