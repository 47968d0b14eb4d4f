using System.Data.Common;
using Npgsql;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Ledger.Postgres;
using Pop3Ingest.Ingestion.Tests.Contracts;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

/// <summary>The ledger contract on a real PostgreSQL: each test a database of its own.</summary>
public sealed class PostgresLedgerContractTests(PostgresFixture fixture) : LedgerContractTests, IClassFixture<PostgresFixture>
{
    protected override Task<string> NewDatabaseAsync() => fixture.Server.CreateDatabaseAsync("contract");

    protected override ILedger Open(string connectionString) => new PostgresLedger(connectionString);

    // A read-only role or a hot standby: reads answer, writes do not.
    protected override string ReadOnly(string connectionString) => connectionString + ";Options=-c default_transaction_read_only=on";

    protected override async Task SetSchemaVersionAsync(string connectionString, long version)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("INSERT INTO pop3ingest_schema (version) VALUES ($1);", connection) { Parameters = { new() { Value = (int)version } } };
        await command.ExecuteNonQueryAsync();
    }

    protected override bool IsReadOnlyRefusal(DbException error) =>
        error is PostgresException { SqlState: PostgresErrorCodes.ReadOnlySqlTransaction };
}
