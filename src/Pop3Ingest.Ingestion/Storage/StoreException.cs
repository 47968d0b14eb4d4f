namespace Pop3Ingest.Ingestion.Storage;

/// <summary>The store failed (down, full, refused). Nothing is deleted on the server when this happens.</summary>
public sealed class StoreException(string message, Exception? innerException = null, bool isTransient = true)
    : Exception(message, innerException)
{
    public bool IsTransient { get; } = isTransient;
}
