namespace Pop3Ingest.Ingestion.Notifications;

/// <summary>
/// The queue failed. The message stays on the server and is announced on a later run. Not transient when trying again
/// cannot help (a refused credential, a queue that does not exist and cannot be created).
/// </summary>
public sealed class NotifierException(string message, Exception? innerException = null, bool isTransient = true) : Exception(message, innerException)
{
    public bool IsTransient { get; } = isTransient;
}
