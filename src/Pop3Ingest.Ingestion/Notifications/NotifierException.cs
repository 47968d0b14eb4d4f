namespace Pop3Ingest.Ingestion.Notifications;

/// <summary>The queue failed. The message stays on the server and is announced on a later run.</summary>
public sealed class NotifierException(string message, Exception? innerException = null) : Exception(message, innerException);
