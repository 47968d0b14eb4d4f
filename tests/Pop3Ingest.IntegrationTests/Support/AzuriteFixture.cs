using Microsoft.Extensions.Logging.Abstractions;
using Pop3Ingest.Ingestion.Azure;
using Pop3Ingest.Ingestion.Notifications.AzureQueue;
using Pop3Ingest.Ingestion.Storage.AzureBlob;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>One Azurite for a test class (it takes seconds to start); tests keep apart through their own containers and queues.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>Quick retries, so that failure tests do not wait for production back-off.</summary>
    internal static readonly AzureStorageSettings FastRetries = new()
    {
        MaxRetries = 2,
        RetryDelay = TimeSpan.FromMilliseconds(50),
        MaxRetryDelay = TimeSpan.FromMilliseconds(200),
        NetworkTimeout = TimeSpan.FromSeconds(30),
    };

    public AzuriteServer Server { get; private set; } = null!;

    internal StorageInspector Inspector { get; private set; } = null!;

    /// <summary>A fresh container or queue name.</summary>
    public static string NewName(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..24];

    internal AzureBlobMessageStore Store(string container, AzureStorageSettings? settings = null, string? connectionString = null) =>
        new(StorageEndpoint.Blob(StorageConnectionString.Parse(connectionString ?? Server.ConnectionString)), container,
            settings ?? FastRetries, NullLogger.Instance);

    internal AzureQueueNotifier Notifier(string queue, QueueMessageEncoding encoding = QueueMessageEncoding.Base64,
        AzureStorageSettings? settings = null, string? connectionString = null) =>
        new(StorageEndpoint.Queue(StorageConnectionString.Parse(connectionString ?? Server.ConnectionString)), queue, encoding,
            settings ?? FastRetries, NullLogger.Instance);

    public async Task InitializeAsync()
    {
        Server = await AzuriteServer.StartAsync();
        Inspector = new StorageInspector(Server);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
