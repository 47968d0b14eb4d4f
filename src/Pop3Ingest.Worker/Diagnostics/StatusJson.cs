using System.Text.Json.Serialization;

namespace Pop3Ingest.Worker.Diagnostics;

/// <summary>/readyz: each dependency checked, and the verdict.</summary>
internal sealed record ReadinessReport(string Status, List<ReadinessCheck> Checks);

internal sealed record ReadinessCheck(
    string Name,
    bool Ok,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error = null);

/// <summary>/status as JSON: one entry per account.</summary>
internal sealed record StatusReport(List<AccountStatusView> Accounts);

internal sealed record AccountStatusView(
    string Account,
    bool Running,
    LastRunView? LastRun,
    DateTimeOffset? LastSuccess,
    int ConsecutiveFailures,
    DateTimeOffset? RetryNotBefore,
    DateTimeOffset? NextRun,
    long MessagesToday,
    long BytesToday,
    long Backlog,
    long Quarantined);

internal sealed record LastRunView(DateTimeOffset Started, string Outcome, string? Failure, string? Error, double Seconds, int Stored, int Deleted);

/// <summary>Serializers generated at build time for the HTTP answers (no reflection, so the worker can be compiled ahead of time).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ReadinessReport))]
[JsonSerializable(typeof(StatusReport))]
internal sealed partial class StatusJsonContext : JsonSerializerContext;
