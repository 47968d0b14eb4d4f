using Azure;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Queues;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>
/// Reads what landed in Azurite, independently of the adapters under test: List Blobs, Get Blob, Get Block List, and
/// Get Messages, through Azure.Storage's own clients built from the connection string (no retries, the raw message text).
/// </summary>
internal sealed class StorageInspector
{
    private readonly BlobServiceClient _blob;
    private readonly QueueServiceClient _queue;

    /// <param name="azurite">The Azurite to read, with its account key.</param>
    /// <param name="transport">For an Azurite over HTTPS: a transport that trusts its certificate.</param>
    public StorageInspector(AzuriteServer azurite, HttpPipelineTransport? transport = null)
    {
        var blobOptions = new BlobClientOptions(BlobClientOptions.ServiceVersion.V2025_11_05);
        blobOptions.Retry.MaxRetries = 0;
        var queueOptions = new QueueClientOptions(QueueClientOptions.ServiceVersion.V2025_11_05) { MessageEncoding = QueueMessageEncoding.None };
        queueOptions.Retry.MaxRetries = 0;
        if (transport is not null)
        {
            blobOptions.Transport = transport;
            queueOptions.Transport = transport;
        }

        _blob = new BlobServiceClient(azurite.ConnectionString, blobOptions);
        _queue = new QueueServiceClient(azurite.ConnectionString, queueOptions);
    }

    public async Task<IReadOnlyList<BlobItem>> ListBlobsAsync(string container, bool includeUncommitted = false)
    {
        var blobs = new List<BlobItem>();
        var states = includeUncommitted ? BlobStates.Uncommitted : BlobStates.None;
        await foreach (var item in _blob.GetBlobContainerClient(container).GetBlobsAsync(BlobTraits.Metadata, states, prefix: null, CancellationToken.None))
        {
            blobs.Add(new BlobItem(item.Name, item.Properties.ContentLength ?? 0, item.Properties.ContentType,
                new Dictionary<string, string>(item.Metadata ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase)));
        }

        return blobs;
    }

    public async Task<byte[]> GetBlobAsync(string container, string name)
    {
        var content = await _blob.GetBlobContainerClient(container).GetBlobClient(name).DownloadContentAsync();
        return content.Value.Content.ToArray();
    }

    /// <summary>Writes a block blob as another program would: one Put Blob, no metadata, no condition.</summary>
    public async Task PutBlobAsync(string container, string name, byte[] content)
    {
        // No condition, no metadata: what a program other than the worker writes.
        var response = await _blob.GetBlobContainerClient(container).GetBlockBlobClient(name).UploadAsync(new MemoryStream(content), new BlobUploadOptions());
        Assert.True(response.GetRawResponse().Status == 201, $"Put Blob {name}: HTTP {response.GetRawResponse().Status}");
    }

    /// <summary>The committed blocks of a block blob (Get Block List); a single Put Blob has none.</summary>
    public async Task<int> CommittedBlockCountAsync(string container, string name)
    {
        var list = await _blob.GetBlobContainerClient(container).GetBlockBlobClient(name).GetBlockListAsync(BlockListTypes.Committed);
        return list.Value.CommittedBlocks.Count();
    }

    /// <summary>Every message in the queue (dequeued in batches of 32 and left invisible for ten minutes).</summary>
    public async Task<IReadOnlyList<QueueItem>> ReceiveAllAsync(string queue)
    {
        var client = _queue.GetQueueClient(queue);
        var all = new List<QueueItem>();
        while (true)
        {
            var batch = (await client.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(10))).Value;
            if (batch.Length == 0)
            {
                return all;
            }

            all.AddRange(batch.Select(m => new QueueItem(m.MessageText, m.ExpiresOn ?? DateTimeOffset.MaxValue, (int)m.DequeueCount)));
        }
    }

    public async Task<bool> ContainerExistsAsync(string container) => await _blob.GetBlobContainerClient(container).ExistsAsync();

    public async Task<bool> QueueExistsAsync(string queue)
    {
        try
        {
            await _queue.GetQueueClient(queue).GetPropertiesAsync();
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
    }

    public sealed record BlobItem(string Name, long Size, string? ContentType, IReadOnlyDictionary<string, string> Metadata);

    public sealed record QueueItem(string Text, DateTimeOffset Expires, int DequeueCount);
}
