namespace Pop3Ingest.Ingestion.Notifications.AzureQueue;

/// <summary>How the event's JSON becomes a queue message's text.</summary>
public enum QueueMessageEncoding
{
    /// <summary>Base64 of the UTF-8 JSON: what Azure Functions' queue trigger and the Azure SDKs' Base64 option read.</summary>
    Base64,

    /// <summary>The JSON itself, XML-escaped into the request (consumers that read raw text).</summary>
    None,
}
