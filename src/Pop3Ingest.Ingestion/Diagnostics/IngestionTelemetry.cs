using System.Diagnostics;

namespace Pop3Ingest.Ingestion.Diagnostics;

/// <summary>The ActivitySource named <c>Pop3Ingest</c>: one activity per run, with its outcome and counts.</summary>
public static class IngestionTelemetry
{
    public const string SourceName = "Pop3Ingest";

    public static readonly ActivitySource Source = new(SourceName);
}
