using System.Data.Common;
using System.Globalization;

namespace Pop3Ingest.Ingestion.Ledger;

/// <summary>
/// Statements without parameters (pragmas, migration scripts, the ping, the counts) as plain commands: Dapper has
/// nothing to bind or map for them, and its build-time generator counts a lone cancellation token as a parameter.
/// </summary>
internal static class LedgerSql
{
    public static async Task<int> ExecuteAsync(DbConnection connection, string sql, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public static async Task<long> ScalarAsync(DbConnection connection, string sql, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is null or DBNull ? 0 : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    /// <summary>Runs a <c>SELECT account, state, count(*) ... GROUP BY account, state</c>.</summary>
    public static async Task<IReadOnlyList<LedgerCount>> CountAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var counts = new List<LedgerCount>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            counts.Add(new LedgerCount(reader.GetString(0), Enum.Parse<LedgerState>(reader.GetString(1)), reader.GetInt64(2)));
        }

        return counts;
    }
}
