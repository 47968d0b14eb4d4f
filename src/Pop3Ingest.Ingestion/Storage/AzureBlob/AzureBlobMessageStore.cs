using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Xml;
using Azure;
using Azure.Core;
using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Azure;
using Pop3Ingest.Ingestion.Diagnostics;

namespace Pop3Ingest.Ingestion.Storage.AzureBlob;

/// <summary>
/// Blobs in an Azure Blob Storage container (README.md, "What lands in the store"), through the Blob REST API on Azure.Core's pipeline.
/// A message that fits in one block buffer goes up with one Put Blob; a larger one as staged blocks (Put Block, one
/// pooled buffer per message) committed by Put Block List. Both commits are conditional (<c>If-None-Match: *</c>), so
/// an existing blob is never replaced, and a blob becomes visible whole or not at all. The sidecar is written before
/// the commit. Each acknowledged commit is durable, so <see cref="FlushAsync"/> has nothing to do.
/// </summary>
internal sealed class AzureBlobMessageStore : IMessageStore
{
    /// <summary>Put Block List takes at most 50,000 blocks (Blob REST API, Put Block List).</summary>
    private const int MaxBlocks = 50_000;

    private const string SidecarContentType = "application/json";
    private readonly StorageServiceClient _client;
    private readonly string _container;
    private readonly int _blockSize;
    private readonly ILogger _logger;

    public AzureBlobMessageStore(StorageEndpoint endpoint, string container, AzureStorageSettings settings, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.BlockSize is < 1 or > 100 * 1024 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), "The block size must be between 1 byte and 100 MiB.");
        }

        _client = new StorageServiceClient("Azure Blob Storage", "Storage Blob Data Contributor", endpoint, settings);
        _container = container;
        _blockSize = settings.BlockSize;
        _logger = logger;
    }

    public string Kind => "AzureBlob";

    public string Container => _container;

    /// <summary>Blobs per List Blobs page (the service's maximum; tests make it small to page).</summary>
    internal int ListPageSize { get; set; } = 5000;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var operation = $"creating the container '{_container}'";
        await GuardAsync(async () =>
        {
            using var message = _client.CreateMessage(RequestMethod.Put, _client.UriOf(_container), "restype=container");
            var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
            if (response.Status == 201)
            {
                Log.ContainerCreated(_logger, _container, _client.ServiceUri.ToString());
                return;
            }

            if (response.Status == 409)
            {
                return; // ContainerAlreadyExists
            }

            var failure = await _client.FailureAsync(response, operation, cancellationToken).ConfigureAwait(false);
            if (failure.Failure == AzureStorageFailure.NotPermitted)
            {
                // A SAS or a role scoped to the container may write blobs without being allowed to create containers.
                Log.ContainerNotCreated(_logger, _container, failure.Message);
                return;
            }

            throw failure;
        }).ConfigureAwait(false);
    }

    public Task PingAsync(CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var operation = $"reading the container '{_container}'";
        using var message = _client.CreateMessage(RequestMethod.Get, _client.UriOf(_container), "restype=container");
        var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw await _client.FailureAsync(response, operation, cancellationToken).ConfigureAwait(false);
        }
    });

    public Task<string> CheckAsync(CancellationToken cancellationToken) => GuardAsync(async () =>
    {
        var operation = $"reading the container '{_container}'";
        using var message = _client.CreateMessage(RequestMethod.Get, _client.UriOf(_container), "restype=container");
        var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            200 => $"container {_container} at {_client.ServiceUri}",
            404 => $"container {_container} does not exist at {_client.ServiceUri}; the first run creates it",
            _ => throw await _client.FailureAsync(response, operation, cancellationToken).ConfigureAwait(false),
        };
    });

    public async Task<PutResult> PutAsync(string blobName, Stream content, BlobProperties properties, Func<PutResult, byte[]>? sidecar, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(properties);
        CheckName(blobName);
        var buffer = ArrayPool<byte>.Shared.Rent(_blockSize);
        try
        {
            return await GuardAsync(() => UploadAsync(blobName, content, properties, sidecar, buffer, cancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public Task FlushAsync(string account, CancellationToken cancellationToken) => Task.CompletedTask;

    public string LocationOf(string blobName) => BlobUri(blobName).AbsoluteUri;

    public async Task<Stream?> OpenReadAsync(string blobName, CancellationToken cancellationToken)
    {
        CheckName(blobName);
        return await GuardAsync(async () =>
        {
            var operation = $"Get Blob {blobName}";
            using var message = _client.CreateMessage(RequestMethod.Get, BlobUri(blobName));
            message.BufferResponse = false; // a stream, whatever the blob's size
            var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
            return response.Status switch
            {
                200 => message.ExtractResponseContent() ?? Stream.Null,
                404 => null,
                _ => throw await _client.FailureAsync(response, operation, cancellationToken).ConfigureAwait(false),
            };
        }).ConfigureAwait(false);
    }

    /// <summary>List Blobs under <c>{account}/</c> with their metadata (the SHA-256 each put recorded), page by page.</summary>
    public async IAsyncEnumerable<StoredBlob> ListAsync(string account, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var prefix = Uri.EscapeDataString(account.ToLowerInvariant() + "/");
        string? marker = null;
        do
        {
            var operation = $"List Blobs {account}/ in '{_container}'";
            var query = string.Create(CultureInfo.InvariantCulture, $"restype=container&comp=list&include=metadata&maxresults={ListPageSize}&prefix={prefix}") +
                (marker is null ? string.Empty : $"&marker={Uri.EscapeDataString(marker)}");
            List<StoredBlob> page;
            (page, marker) = await GuardAsync(async () =>
            {
                using var message = _client.CreateMessage(RequestMethod.Get, _client.UriOf(_container), query);
                var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
                if (response.Status != 200)
                {
                    throw await _client.FailureAsync(response, operation, cancellationToken).ConfigureAwait(false);
                }

                try
                {
                    return ParseBlobList(response.ContentStream ?? Stream.Null);
                }
                catch (Exception e) when (e is XmlException or FormatException)
                {
                    throw new AzureStorageException($"{_client.ServiceName} at {_client.ServiceUri}: {operation} answered with a listing that cannot be read: {e.Message}",
                        AzureStorageFailure.Refused, response.Status, null, e);
                }
            }).ConfigureAwait(false);
            foreach (var blob in page)
            {
                yield return blob;
            }
        }
        while (!string.IsNullOrEmpty(marker));
    }

    /// <summary>
    /// One page of List Blobs: <c>EnumerationResults/Blobs/Blob</c> (Name, Properties/Content-Length, Last-Modified,
    /// Metadata/sha256) and <c>NextMarker</c>. Only message blobs (<c>{id}.eml</c>) are kept.
    /// </summary>
    private static (List<StoredBlob> Blobs, string? NextMarker) ParseBlobList(Stream body)
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreWhitespace = true };
        using var reader = XmlReader.Create(body, settings);
        var blobs = new List<StoredBlob>();
        string? nextMarker = null;
        string? name = null, sha256 = null, modified = null;
        long size = 0;
        reader.MoveToContent();
        while (!reader.EOF)
        {
            // ReadElementContentAsString leaves the reader on the next node already: no Read() after it.
            if (reader.NodeType == XmlNodeType.EndElement && reader.Name == "Blob")
            {
                if (name is not null && BlobNaming.IdOfBlobName(name) is not null && modified is not null)
                {
                    var hash = sha256 is { Length: 64 } && sha256.All(char.IsAsciiHexDigitLower) ? sha256 : null;
                    blobs.Add(new StoredBlob(name, size, hash, DateTimeOffset.ParseExact(modified, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)));
                }

                (name, sha256, modified, size) = (null, null, null, 0);
                reader.Read();
                continue;
            }

            switch (reader.NodeType == XmlNodeType.Element ? reader.Name : null)
            {
                case "Name" when reader.Depth == 3:
                    name = reader.ReadElementContentAsString();
                    break;
                case "Content-Length":
                    size = long.Parse(reader.ReadElementContentAsString(), CultureInfo.InvariantCulture);
                    break;
                case "Last-Modified":
                    modified = reader.ReadElementContentAsString();
                    break;
                case "sha256":
                    sha256 = reader.ReadElementContentAsString();
                    break;
                case "NextMarker":
                    nextMarker = reader.ReadElementContentAsString();
                    break;
                default:
                    reader.Read();
                    break;
            }
        }

        return (blobs, nextMarker);
    }

    private async Task<PutResult> UploadAsync(string blobName, Stream content, BlobProperties properties, Func<PutResult, byte[]>? sidecar,
        byte[] buffer, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var filled = await FillAsync(content, buffer, _blockSize, cancellationToken).ConfigureAwait(false);
        hash.AppendData(buffer, 0, filled);
        long size = filled;
        bool created;
        PutResult? kept = null;
        if (filled < _blockSize)
        {
            // The whole message is in the buffer: one request.
            var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            await PutSidecarAsync(blobName, properties, sidecar, new PutResult(Created: true), cancellationToken).ConfigureAwait(false);
            created = await PutBlobAsync(blobName, buffer.AsMemory(0, filled), properties, sha256, cancellationToken).ConfigureAwait(false);
            if (!created && (kept = await DescribeAsync(blobName, cancellationToken).ConfigureAwait(false)) is null)
            {
                // A conflict without a committed blob: Azurite counts blocks staged under the name (by an abandoned or a
                // concurrent upload) as a blob for Put Blob's If-None-Match, though not for Put Block List's. Commit the
                // buffer as one block, still conditionally.
                var blockId = BlockId(NewUploadId(), 0);
                await PutBlockAsync(blobName, blockId, buffer.AsMemory(0, filled), cancellationToken).ConfigureAwait(false);
                created = await PutBlockListAsync(blobName, [blockId], properties, sha256, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            if (await DescribeAsync(blobName, cancellationToken).ConfigureAwait(false) is { } existing)
            {
                // Stored before a crash: nothing to upload; read the new copy to its end, as the port promises.
                await content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                await PutSidecarAsync(blobName, properties, sidecar, existing, cancellationToken).ConfigureAwait(false);
                return existing;
            }

            // Random per upload, so that blocks staged by an abandoned attempt are never committed with these.
            var uploadId = NewUploadId();
            var blockIds = new List<string>();
            while (filled > 0)
            {
                if (blockIds.Count == MaxBlocks)
                {
                    throw new AzureStorageException(
                        $"{blobName} is larger than {MaxBlocks} blocks of {_blockSize} bytes, the most one block blob can hold.", AzureStorageFailure.Refused, 0, null);
                }

                var blockId = BlockId(uploadId, blockIds.Count);
                await PutBlockAsync(blobName, blockId, buffer.AsMemory(0, filled), cancellationToken).ConfigureAwait(false);
                blockIds.Add(blockId);
                filled = await FillAsync(content, buffer, _blockSize, cancellationToken).ConfigureAwait(false);
                hash.AppendData(buffer, 0, filled);
                size += filled;
            }

            var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
            await PutSidecarAsync(blobName, properties, sidecar, new PutResult(Created: true), cancellationToken).ConfigureAwait(false);
            created = await PutBlockListAsync(blobName, blockIds, properties, sha256, cancellationToken).ConfigureAwait(false);
        }

        if (created)
        {
            return new PutResult(Created: true);
        }

        // The conditional commit found a blob (a crash after an earlier upload, before the ledger knew): it wins,
        // and the sidecar, already rewritten for a new blob, is rewritten for the kept one.
        kept ??= await DescribeAsync(blobName, cancellationToken).ConfigureAwait(false)
            ?? throw new AzureStorageException($"Azure Blob Storage at {_client.ServiceUri}: {blobName} was reported as existing but cannot be read back.", AzureStorageFailure.NotFound, 404, null);
        Log.BlobAlreadyExists(_logger, blobName, size, kept.ExistingSize ?? 0);
        await PutSidecarAsync(blobName, properties, sidecar, kept, cancellationToken).ConfigureAwait(false);
        return kept;
    }

    /// <summary>Put Blob with <c>If-None-Match: *</c>; false when the blob exists.</summary>
    private async Task<bool> PutBlobAsync(string blobName, ReadOnlyMemory<byte> data, BlobProperties properties, string sha256, CancellationToken cancellationToken)
    {
        var operation = $"Put Blob {blobName}";
        using var message = _client.CreateMessage(RequestMethod.Put, BlobUri(blobName));
        var request = message.Request;
        request.Headers.Add("x-ms-blob-type", "BlockBlob");
        request.Headers.Add("x-ms-blob-content-type", BlobProperties.ContentType);
        request.Headers.Add(HttpHeader.Names.ContentType, BlobProperties.ContentType);
        request.Headers.Add(HttpHeader.Names.IfNoneMatch, "*");
        AddMetadata(request, properties, sha256);
        request.Content = RequestContent.Create(data);
        return await CommitResultAsync(await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false), operation, cancellationToken).ConfigureAwait(false);
    }

    private async Task PutBlockAsync(string blobName, string blockId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var operation = $"Put Block {blobName}";
        using var message = _client.CreateMessage(RequestMethod.Put, BlobUri(blobName), $"comp=block&blockid={Uri.EscapeDataString(blockId)}");
        message.Request.Content = RequestContent.Create(data);
        var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
        if (response.Status != 201)
        {
            throw await _client.FailureAsync(response, operation, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Put Block List with <c>If-None-Match: *</c>; false when the blob exists.</summary>
    private async Task<bool> PutBlockListAsync(string blobName, List<string> blockIds, BlobProperties properties, string sha256, CancellationToken cancellationToken)
    {
        var operation = $"Put Block List {blobName}";
        var xml = new StringBuilder(64 + (blockIds.Count * 40)).Append("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        foreach (var id in blockIds)
        {
            xml.Append("<Latest>").Append(id).Append("</Latest>"); // Base64: nothing to escape
        }

        xml.Append("</BlockList>");
        using var message = _client.CreateMessage(RequestMethod.Put, BlobUri(blobName), "comp=blocklist");
        var request = message.Request;
        request.Headers.Add("x-ms-blob-content-type", BlobProperties.ContentType);
        request.Headers.Add(HttpHeader.Names.IfNoneMatch, "*");
        AddMetadata(request, properties, sha256);
        request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(xml.ToString()));
        return await CommitResultAsync(await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false), operation, cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> CommitResultAsync(Response response, string operation, CancellationToken cancellationToken) => response.Status switch
    {
        201 => true,
        // If-None-Match: * on an existing blob: 409 BlobAlreadyExists (412 ConditionNotMet from some versions).
        409 or 412 => false,
        _ => throw await _client.FailureAsync(response, operation, cancellationToken).ConfigureAwait(false),
    };

    /// <summary>The sidecar <c>{id}.json</c> (replacing an older one), before the message's blob is committed.</summary>
    private async Task PutSidecarAsync(string blobName, BlobProperties properties, Func<PutResult, byte[]>? sidecar, PutResult result, CancellationToken cancellationToken)
    {
        if (sidecar is null)
        {
            return;
        }

        var json = sidecar(result);
        var sidecarName = BlobNaming.SidecarOf(blobName);
        var operation = $"Put Blob {sidecarName}";
        using var message = _client.CreateMessage(RequestMethod.Put, BlobUri(sidecarName));
        var request = message.Request;
        request.Headers.Add("x-ms-blob-type", "BlockBlob");
        request.Headers.Add("x-ms-blob-content-type", SidecarContentType);
        request.Headers.Add(HttpHeader.Names.ContentType, SidecarContentType);
        request.Headers.Add("x-ms-meta-account", properties.Account);
        request.Headers.Add("x-ms-meta-uidlhash", properties.UidlHash);
        request.Content = RequestContent.Create(json);
        var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
        if (response.Status != 201)
        {
            throw await _client.FailureAsync(response, operation, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>What is stored under a name (Get Blob Properties), or null when nothing is.</summary>
    private async Task<PutResult?> DescribeAsync(string blobName, CancellationToken cancellationToken)
    {
        var operation = $"Get Blob Properties {blobName}";
        using var message = _client.CreateMessage(RequestMethod.Head, BlobUri(blobName));
        var response = await _client.SendAsync(message, operation, cancellationToken).ConfigureAwait(false);
        if (response.Status == 404)
        {
            return null;
        }

        if (response.Status != 200)
        {
            throw await _client.FailureAsync(response, operation, cancellationToken).ConfigureAwait(false);
        }

        var size = response.Headers.ContentLengthLong ?? 0;
        if (response.Headers.TryGetValue("x-ms-meta-sha256", out var sha256) && sha256.Length == 64 && sha256.All(char.IsAsciiHexDigitLower))
        {
            return new PutResult(Created: false, sha256, size);
        }

        // Not written by this program (no hash in its metadata): hash what is there.
        await using var stream = await OpenReadAsync(blobName, cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            return null;
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = ArrayPool<byte>.Shared.Rent(128 * 1024);
        try
        {
            long length = 0;
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(chunk, 0, read);
                length += read;
            }

            return new PutResult(Created: false, Convert.ToHexStringLower(hash.GetHashAndReset()), length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static string NewUploadId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    /// <summary>Block ids of one blob must all have the same length: 8 hex digits of the upload, a dash, 6 digits.</summary>
    private static string BlockId(string uploadId, int index) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{uploadId}-{index:D6}")));

    private static void AddMetadata(Request request, BlobProperties properties, string sha256)
    {
        request.Headers.Add("x-ms-meta-account", properties.Account);
        request.Headers.Add("x-ms-meta-uidlhash", properties.UidlHash);
        request.Headers.Add("x-ms-meta-sha256", sha256);
    }

    /// <summary>Reads until the buffer holds <paramref name="count"/> bytes or the stream ends.</summary>
    private static async Task<int> FillAsync(Stream content, byte[] buffer, int count, CancellationToken cancellationToken)
    {
        var filled = 0;
        int read;
        while (filled < count && (read = await content.ReadAsync(buffer.AsMemory(filled, count - filled), cancellationToken).ConfigureAwait(false)) > 0)
        {
            filled += read;
        }

        return filled;
    }

    private Uri BlobUri(string blobName) => _client.UriOf($"{_container}/{blobName}");

    /// <summary>Names come from <see cref="BlobNaming"/>; anything else that could address another resource is refused.</summary>
    private static void CheckName(string blobName)
    {
        if (string.IsNullOrEmpty(blobName) || blobName.Length > 1024 || blobName.StartsWith('/') || blobName.EndsWith('/') ||
            blobName.Contains("..", StringComparison.Ordinal) || blobName.Contains("//", StringComparison.Ordinal) ||
            blobName.Contains('\\', StringComparison.Ordinal) || blobName.Any(char.IsControl))
        {
            throw new StoreException($"Refusing the blob name '{blobName}': it is not a plain path inside the container.", isTransient: false);
        }
    }

    private static async Task<T> GuardAsync<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (AzureStorageException e)
        {
            throw new StoreException(e.Message, e, e.IsTransient);
        }
    }

    private static async Task GuardAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (AzureStorageException e)
        {
            throw new StoreException(e.Message, e, e.IsTransient);
        }
    }
}
