using System.Text;
using System.Xml.Linq;
using Azure.Core;
using Pop3Ingest.Ingestion.Azure;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>
/// Reads what landed in Azurite, independently of the adapters under test: List Blobs, Get Blob, Get Block List, and
/// Peek/Get Messages, through the Shared Key pipeline and plain XML parsing.
/// </summary>
internal sealed class StorageInspector
{
    private readonly StorageServiceClient _blob;
    private readonly StorageServiceClient _queue;

    public StorageInspector(AzuriteServer azurite)
    {
        var connection = StorageConnectionString.Parse(azurite.ConnectionString);
        var settings = new AzureStorageSettings { MaxRetries = 0 };
        _blob = new StorageServiceClient("Azurite Blob (test)", "-", StorageEndpoint.Blob(connection), settings);
        _queue = new StorageServiceClient("Azurite Queue (test)", "-", StorageEndpoint.Queue(connection), settings);
    }

    public async Task<IReadOnlyList<BlobItem>> ListBlobsAsync(string container, bool includeUncommitted = false)
    {
        var query = "restype=container&comp=list&include=metadata" + (includeUncommitted ? "&include=uncommittedblobs" : string.Empty);
        var xml = await GetXmlAsync(_blob, _blob.UriOf(container), query);
        return [.. xml.Descendants("Blob").Select(b => new BlobItem(
            b.Element("Name")!.Value,
            long.Parse(b.Element("Properties")!.Element("Content-Length")!.Value, System.Globalization.CultureInfo.InvariantCulture),
            b.Element("Properties")!.Element("Content-Type")?.Value,
            (b.Element("Metadata")?.Elements() ?? []).ToDictionary(e => e.Name.LocalName, e => e.Value, StringComparer.OrdinalIgnoreCase)))];
    }

    public async Task<byte[]> GetBlobAsync(string container, string name)
    {
        using var message = _blob.CreateMessage(RequestMethod.Get, _blob.UriOf($"{container}/{name}"));
        var response = await _blob.SendAsync(message, "Get Blob", CancellationToken.None);
        Assert.True(response.Status == 200, $"Get Blob {name}: HTTP {response.Status}");
        return response.Content.ToArray();
    }

    /// <summary>Writes a block blob as another program would: one Put Blob, no metadata, no condition.</summary>
    public async Task PutBlobAsync(string container, string name, byte[] content)
    {
        using var message = _blob.CreateMessage(RequestMethod.Put, _blob.UriOf($"{container}/{name}"));
        message.Request.Headers.Add("x-ms-blob-type", "BlockBlob");
        message.Request.Content = RequestContent.Create(content);
        var response = await _blob.SendAsync(message, "Put Blob", CancellationToken.None);
        Assert.True(response.Status == 201, $"Put Blob {name}: HTTP {response.Status}");
    }

    /// <summary>The committed blocks of a block blob (Get Block List); a single Put Blob has none.</summary>
    public async Task<int> CommittedBlockCountAsync(string container, string name)
    {
        var xml = await GetXmlAsync(_blob, _blob.UriOf($"{container}/{name}"), "comp=blocklist&blocklisttype=committed");
        return xml.Root!.Element("CommittedBlocks")?.Elements("Block").Count() ?? 0;
    }

    /// <summary>Every message in the queue (dequeued in batches of 32 and left invisible for ten minutes).</summary>
    public async Task<IReadOnlyList<QueueItem>> ReceiveAllAsync(string queue)
    {
        var all = new List<QueueItem>();
        while (true)
        {
            var xml = await GetXmlAsync(_queue, _queue.UriOf($"{queue}/messages"), "numofmessages=32&visibilitytimeout=600");
            var batch = xml.Descendants("QueueMessage").Select(m => new QueueItem(
                m.Element("MessageText")!.Value,
                DateTimeOffset.Parse(m.Element("ExpirationTime")!.Value, System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(m.Element("DequeueCount")!.Value, System.Globalization.CultureInfo.InvariantCulture))).ToList();
            if (batch.Count == 0)
            {
                return all;
            }

            all.AddRange(batch);
        }
    }

    public async Task<bool> ContainerExistsAsync(string container)
    {
        using var message = _blob.CreateMessage(RequestMethod.Get, _blob.UriOf(container), "restype=container");
        var response = await _blob.SendAsync(message, "Get Container Properties", CancellationToken.None);
        return response.Status == 200;
    }

    public async Task<bool> QueueExistsAsync(string queue)
    {
        using var message = _queue.CreateMessage(RequestMethod.Get, _queue.UriOf(queue), "comp=metadata");
        var response = await _queue.SendAsync(message, "Get Queue Metadata", CancellationToken.None);
        return response.Status == 200;
    }

    private static async Task<XDocument> GetXmlAsync(StorageServiceClient client, Uri uri, string query)
    {
        using var message = client.CreateMessage(RequestMethod.Get, uri, query);
        var response = await client.SendAsync(message, "GET " + query, CancellationToken.None);
        var body = Encoding.UTF8.GetString(response.Content.ToArray()).TrimStart('\uFEFF');
        Assert.True(response.Status == 200, $"GET {uri}?{query}: HTTP {response.Status} {body}");
        return XDocument.Parse(body);
    }

    public sealed record BlobItem(string Name, long Size, string? ContentType, IReadOnlyDictionary<string, string> Metadata);

    public sealed record QueueItem(string Text, DateTimeOffset Expires, int DequeueCount);
}
