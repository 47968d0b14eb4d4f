namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>Where a run stands: messages stored out of those it plans to download, and bytes so far.</summary>
public readonly record struct RunProgress(string Account, int Done, int Planned, long Bytes);
