using Pop3Ingest.Ingestion.Events;

namespace Pop3Ingest.Ingestion.Notifications;

/// <summary>
/// The notification port: announces a stored message downstream. Delivery is at least once; the event id is
/// stable per (account, UIDL) so that consumers can de-duplicate.
/// </summary>
public interface INotifier
{
    /// <summary>Short name for logs ("AzureQueue").</summary>
    string Kind { get; }

    Task InitializeAsync(CancellationToken cancellationToken);

    Task PingAsync(CancellationToken cancellationToken);

    /// <summary>What <c>check</c> reports, changing nothing: that the queue can be reached, or that the first run creates it.</summary>
    Task<string> CheckAsync(CancellationToken cancellationToken);

    /// <summary>Publishes one event; returns once the queue acknowledged it.</summary>
    Task PublishAsync(MessageEventData data, CancellationToken cancellationToken);
}
