using System.Text.Json.Serialization;
using Pop3Ingest.Ingestion.Ledger;

namespace Pop3Ingest.Worker.Cli;

/// <summary>The ledger file's and `ledger list --format json`'s serializers, generated at build time (no reflection).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(LedgerRow))]
[JsonSerializable(typeof(LedgerTransfer.Header))]
internal sealed partial class LedgerJsonContext : JsonSerializerContext;
