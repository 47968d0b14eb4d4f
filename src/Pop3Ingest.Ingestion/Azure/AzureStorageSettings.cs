using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace Pop3Ingest.Ingestion.Azure;

/// <summary>
/// Client settings of the Blob and Queue adapters: the service version, the SDK's retries and network timeout, the
/// block size. <see cref="BlobOptions"/> and <see cref="QueueOptions"/> turn them into the SDK's client options.
/// </summary>
internal sealed record AzureStorageSettings
{
    /// <summary>
    /// The REST version both services are called with. The SDK's own default (2026-10-06) is refused by Azurite 3.35
    /// (400 InvalidHeaderValue); this one is accepted by Azure and by Azurite, and the calls used here have not changed since.
    /// </summary>
    public const string DefaultServiceVersion = "2025-11-05";

    /// <summary>The Blob service version (<c>x-ms-version</c>).</summary>
    public BlobClientOptions.ServiceVersion BlobServiceVersion { get; init; } = BlobClientOptions.ServiceVersion.V2025_11_05;

    /// <summary>The Queue service version (<c>x-ms-version</c>).</summary>
    public QueueClientOptions.ServiceVersion QueueServiceVersion { get; init; } = QueueClientOptions.ServiceVersion.V2025_11_05;

    /// <summary>Retries after the first attempt, for transport errors and 408/429/500/502/503/504.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>The first retry's delay; later ones grow exponentially (with jitter) up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>One attempt of one request, a block upload included (4 MiB at 1 MB/s is 4 s): no wait is longer.</summary>
    public TimeSpan NetworkTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The largest block of a staged upload, and the pooled buffer each upload holds; a message that fits in one goes
    /// up with a single Put Blob.
    /// </summary>
    public int BlockSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Replaces the HTTP transport (tests inject faults); null: Azure.Core's shared HttpClient.</summary>
    public HttpPipelineTransport? Transport { get; init; }

    /// <summary>Parses <c>yyyy-MM-dd</c> into a Blob service version the SDK knows.</summary>
    public static bool TryParseBlobVersion(string text, out BlobClientOptions.ServiceVersion version) =>
        Enum.TryParse(EnumName(text), ignoreCase: false, out version) && Enum.IsDefined(version);

    /// <summary>Parses <c>yyyy-MM-dd</c> into a Queue service version the SDK knows.</summary>
    public static bool TryParseQueueVersion(string text, out QueueClientOptions.ServiceVersion version) =>
        Enum.TryParse(EnumName(text), ignoreCase: false, out version) && Enum.IsDefined(version);

    /// <summary>The versions the SDK knows, oldest first, as <c>yyyy-MM-dd</c>.</summary>
    public static IEnumerable<string> KnownBlobVersions() => Enum.GetNames<BlobClientOptions.ServiceVersion>().Select(n => n[1..].Replace('_', '-'));

    public static IEnumerable<string> KnownQueueVersions() => Enum.GetNames<QueueClientOptions.ServiceVersion>().Select(n => n[1..].Replace('_', '-'));

    public BlobClientOptions BlobOptions()
    {
        var options = new BlobClientOptions(BlobServiceVersion);
        Apply(options);
        // No CRC64 or MD5 transfer validation: Azurite 3.35 fails it. The SHA-256 in each blob's metadata is the integrity record.
        options.TransferValidation.Upload.ChecksumAlgorithm = StorageChecksumAlgorithm.None;
        options.TransferValidation.Download.ChecksumAlgorithm = StorageChecksumAlgorithm.None;
        return options;
    }

    public QueueClientOptions QueueOptions(QueueMessageEncoding encoding)
    {
        var options = new QueueClientOptions(QueueServiceVersion) { MessageEncoding = encoding };
        Apply(options);
        return options;
    }

    private void Apply(ClientOptions options)
    {
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = MaxRetries;
        options.Retry.Delay = RetryDelay;
        options.Retry.MaxDelay = MaxRetryDelay;
        options.Retry.NetworkTimeout = NetworkTimeout;
        options.Diagnostics.ApplicationId = "Pop3Ingest";
        // Azure.Core's event source logs requests with Authorization and sig= redacted; bodies (messages) never.
        options.Diagnostics.IsLoggingContentEnabled = false;
        if (Transport is { } transport)
        {
            options.Transport = transport;
        }
    }

    private static string EnumName(string text) => text.Length == 10 && text[4] == '-' && text[7] == '-' ? "V" + text.Replace('-', '_') : string.Empty;
}
