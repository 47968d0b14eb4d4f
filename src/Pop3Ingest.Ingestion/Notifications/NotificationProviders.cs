namespace Pop3Ingest.Ingestion.Notifications;

/// <summary>The values of <c>Pop3Ingest:Notifications:Provider</c>; a notifier's <see cref="INotifier.Kind"/> is its value.</summary>
public static class NotificationProviders
{
    /// <summary>No queue: stored messages are deletable at once (the default).</summary>
    public const string None = "None";

    /// <summary>An Azure Storage queue, one CloudEvent per message.</summary>
    public const string AzureQueue = "AzureQueue";
}
