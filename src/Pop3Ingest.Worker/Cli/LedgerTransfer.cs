using System.Text.Json;
using Pop3Ingest.Ingestion.Ledger;

namespace Pop3Ingest.Worker.Cli;

/// <summary>
/// The portable ledger file: JSON Lines, a header line then one row per line, every field kept (blob names and
/// states included), so that a ledger moves between providers without re-downloading or renaming anything.
/// </summary>
internal static class LedgerTransfer
{
    public const string Format = "pop3ingest-ledger";
    public const int Version = 1;

    public static async Task<int> ExportAsync(ILedger ledger, string path, string? account, CancellationToken cancellationToken)
    {
        var temp = path + ".partial";
        var count = 0;
        await using (var writer = new StreamWriter(temp, append: false, new System.Text.UTF8Encoding(false)))
        {
            await writer.WriteLineAsync(JsonSerializer.Serialize(new Header(Format, Version, DateTimeOffset.UtcNow), LedgerJsonContext.Default.Header)).ConfigureAwait(false);
            await foreach (var row in ledger.ReadAllAsync(account, null, cancellationToken).ConfigureAwait(false))
            {
                await writer.WriteLineAsync(JsonSerializer.Serialize(row, LedgerJsonContext.Default.LedgerRow)).ConfigureAwait(false);
                count++;
            }
        }

        File.Move(temp, path, overwrite: true);
        return count;
    }

    public static async Task<int> ImportAsync(ILedger ledger, string path, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(path);
        var first = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        Header? header;
        try
        {
            header = first is null ? null : JsonSerializer.Deserialize(first, LedgerJsonContext.Default.Header);
        }
        catch (JsonException)
        {
            header = null;
        }

        if (header is null || header.Format != Format || header.Version > Version)
        {
            throw new LedgerFormatException($"{path} is not a ledger export this program can read (expected format '{Format}' version {Version}).");
        }

        var batch = new List<LedgerRow>(1000);
        var count = 0;
        var line = 1;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            LedgerRow row;
            try
            {
                row = JsonSerializer.Deserialize(text, LedgerJsonContext.Default.LedgerRow) ?? throw new JsonException("empty row");
            }
            catch (JsonException e)
            {
                throw new LedgerFormatException($"{path}, line {line}: {e.Message}");
            }

            batch.Add(row);
            if (batch.Count == 1000)
            {
                await ledger.InsertAsync(batch, cancellationToken).ConfigureAwait(false);
                count += batch.Count;
                batch.Clear();
            }
        }

        await ledger.InsertAsync(batch, cancellationToken).ConfigureAwait(false);
        return count + batch.Count;
    }

    internal sealed record Header(string Format, int Version, DateTimeOffset Exported);
}

/// <summary>A ledger file that cannot be imported.</summary>
internal sealed class LedgerFormatException(string message) : Exception(message);
