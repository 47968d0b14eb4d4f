using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pop3Ingest.Ingestion.Azure;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Ledger.Postgres;
using Pop3Ingest.Ingestion.Ledger.Sqlite;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Notifications.AzureQueue;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Storage.AzureBlob;
using Pop3Ingest.Ingestion.Storage.FileSystem;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.Worker.Hosting;

/// <summary>Registers the options, the ledger, the store, the notifier and the runner.</summary>
internal static class ServiceCollectionExtensions
{
    // onlyAccount: a verb's --account; only that account is bound and validated.
    public static IServiceCollection AddPop3Ingest(this IServiceCollection services, IConfiguration configuration, string baseDirectory, string? onlyAccount = null)
    {
        services.AddSingleton(configuration);
        services.AddOptions<Pop3IngestOptions>()
            .Configure(options => OptionsSetup.Bind(options, configuration))
            .PostConfigure(options => OptionsSetup.Apply(options, configuration, baseDirectory, onlyAccount))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<Pop3IngestOptions>>(new Pop3IngestOptionsValidator(configuration, onlyAccount));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<AccountSettingsFactory>();
        services.AddSingleton<ILedger>(sp =>
        {
            var ledger = sp.GetRequiredService<IOptions<Pop3IngestOptions>>().Value.Ledger;
            var connectionString = OptionsSetup.LedgerConnectionString(ledger);
            return ledger.Provider.Equals(LedgerProviders.Postgres, StringComparison.OrdinalIgnoreCase)
                ? new PostgresLedger(connectionString)
                : new SqliteLedger(connectionString);
        });
        // One credential for both adapters, so that they share its token cache; built only when a ServiceUri needs it.
        services.AddSingleton<TokenCredential>(_ => new DefaultAzureCredential());
        services.AddSingleton<IMessageStore>(sp =>
        {
            var storage = sp.GetRequiredService<IOptions<Pop3IngestOptions>>().Value.Storage;
            if (storage.Provider.Equals(StorageProviders.AzureBlob, StringComparison.OrdinalIgnoreCase))
            {
                return new AzureBlobMessageStore(
                    AzureEndpointFactory.Blob(storage, sp.GetRequiredService<TokenCredential>), storage.Container!,
                    AzureEndpointFactory.BlobSettings(storage), sp.GetRequiredService<ILogger<AzureBlobMessageStore>>());
            }

            return new FileSystemMessageStore(storage.Root!);
        });

        // Without a queue, IngestionRunner gets no notifier and deletes what is stored (src/README.md, "Guarantees in the code").
        if (string.Equals(configuration[$"{Pop3IngestOptions.Section}:Notifications:Provider"], NotificationProviders.AzureQueue, StringComparison.OrdinalIgnoreCase))
        {
            services.AddSingleton<INotifier>(sp =>
            {
                var notifications = sp.GetRequiredService<IOptions<Pop3IngestOptions>>().Value.Notifications;
                return new AzureQueueNotifier(
                    AzureEndpointFactory.Queue(notifications, sp.GetRequiredService<TokenCredential>), notifications.Queue!,
                    notifications.MessageEncoding, AzureEndpointFactory.QueueSettings(notifications), sp.GetRequiredService<ILogger<AzureQueueNotifier>>());
            });
        }
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<Pop3IngestOptions>>().Value;
            var storage = options.Storage;

            // Uploads overlap for the Azure store only: the folder store is as fast as the disk without them.
            var uploads = storage.Provider.Equals(StorageProviders.AzureBlob, StringComparison.OrdinalIgnoreCase)
                ? new UploadOverlap(storage.MaxUploadsInFlight ?? StorageOptions.DefaultUploadsInFlight, AzureEndpointFactory.BlobSettings(storage).BlockSize,
                    new UploadBudget(storage.UploadBufferBytes ?? StorageOptions.DefaultUploadBufferBytes))
                : null;
            return new IngestionOptions
            {
                Sidecar = storage.Sidecar,
                PruneAfter = TimeSpan.FromDays(options.Ledger.PruneAfterDays),
                Uploads = uploads,
                MaxSendsInFlight = options.Notifications.MaxSendsInFlight ?? NotificationsOptions.DefaultSendsInFlight,
            };
        });
        services.AddSingleton(sp => new IngestionRunner(
            sp.GetRequiredService<ILedger>(),
            sp.GetRequiredService<IMessageStore>(),
            sp.GetService<INotifier>(),
            sp.GetRequiredService<IngestionOptions>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<IngestionRunner>>()));
        return services;
    }
}
