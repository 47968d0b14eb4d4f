using Azure.Core;
using Pop3Ingest.Ingestion.Azure;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.Worker.Hosting;

/// <summary>Turns validated Azure options into a service endpoint and its credential, and the clients' settings.</summary>
internal static class AzureEndpointFactory
{
    /// <summary>The Blob client's settings: the configured service version, or the default.</summary>
    public static AzureStorageSettings BlobSettings(StorageOptions storage) =>
        storage.ServiceVersion is { } text && AzureStorageSettings.TryParseBlobVersion(text, out var version)
            ? new AzureStorageSettings { BlobServiceVersion = version }
            : new AzureStorageSettings();

    /// <summary>The Queue client's settings: the configured service version, or the default.</summary>
    public static AzureStorageSettings QueueSettings(NotificationsOptions notifications) =>
        notifications.ServiceVersion is { } text && AzureStorageSettings.TryParseQueueVersion(text, out var version)
            ? new AzureStorageSettings { QueueServiceVersion = version }
            : new AzureStorageSettings();

    public static StorageEndpoint Blob(StorageOptions storage, Func<TokenCredential> tokenCredential) =>
        Create(storage.ConnectionString, storage.ConnectionStringFile, storage.ServiceUri, tokenCredential, StorageEndpoint.Blob);

    public static StorageEndpoint Queue(NotificationsOptions notifications, Func<TokenCredential> tokenCredential) =>
        Create(notifications.ConnectionString, notifications.ConnectionStringFile, notifications.ServiceUri, tokenCredential, StorageEndpoint.Queue);

    private static StorageEndpoint Create(string? connectionString, string? connectionStringFile, string? serviceUri,
        Func<TokenCredential> tokenCredential, Func<StorageConnectionString, StorageEndpoint> pick)
    {
        if (serviceUri is not null)
        {
            return new StorageEndpoint(new Uri(serviceUri.TrimEnd('/')), StorageCredential.Token(tokenCredential()));
        }

        var text = connectionStringFile is not null ? OptionsSetup.ReadSecretFile(connectionStringFile) : connectionString!;
        return pick(StorageConnectionString.Parse(text));
    }
}

