using Azure.Core.Pipeline;

namespace Pop3Ingest.Ingestion.Azure;

/// <summary>Transport settings of the Blob and Queue adapters (Azure.Core's retries and timeouts, block size).</summary>
internal sealed record AzureStorageSettings
{
    /// <summary>Retries after the first attempt, for transport errors and 408/429/500/502/503/504.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>The first retry's delay; later ones grow exponentially (with jitter) up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>One attempt of one request, a block upload included (4 MiB at 1 MB/s is 4 s).</summary>
    public TimeSpan NetworkTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The largest block of a staged upload, and the pooled buffer each upload holds; a message that fits in one goes
    /// up with a single Put Blob.
    /// </summary>
    public int BlockSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>Replaces the HTTP transport (tests inject faults); null: Azure.Core's shared HttpClient.</summary>
    public HttpPipelineTransport? Transport { get; init; }
}
