using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Azure;
using Pop3Ingest.Ingestion.Diagnostics;

namespace Pop3Ingest.Ingestion.Storage.AzureBlob;

/// <summary>
/// Blobs in an Azure Blob Storage container (README.md, "What lands in the store"), through Azure.Storage.Blobs'
/// <see cref="BlockBlobClient"/>. A message that fits in one block buffer goes up with one Put Blob; a larger one as
/// staged blocks (Put Block, one pooled buffer per message) committed by Put Block List. Both commits are conditional
/// (<c>If-None-Match: *</c>), so an existing blob is never replaced, and a blob becomes visible whole or not at all. The
/// SDK's <c>UploadAsync(stream)</c> is not used: for a stream of unknown length it always stages blocks (two requests for
/// every small message), finds an existing blob only at the commit, after uploading all of it, and buffers more. The
/// sidecar is written before the commit. Each acknowledged commit is durable, so <see cref="FlushAsync"/> has nothing to do.
/// </summary>
internal sealed class AzureBlobMessageStore : IMessageStore
{
    /// <summary>Put Block List takes at most 50,000 blocks (Blob REST API, Put Block List).</summary>
    private const int MaxBlocks = 50_000;

    private const string SidecarContentType = "application/json";
    private readonly BlobContainerClient _client;
    private readonly StorageErrors _errors;
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

        _client = endpoint.Credential.BlobService(endpoint.ServiceUri, settings.BlobOptions()).GetBlobContainerClient(container);
        _errors = new StorageErrors("Azure Blob Storage", "Storage Blob Data Contributor", endpoint, settings);
        _container = container;
        _blockSize = settings.BlockSize;
        _logger = logger;
    }

    public string Kind => "AzureBlob";

    public string Container => _container;

    /// <summary>Blobs per List Blobs page (the service's maximum; tests make it small to page).</summary>
    internal int ListPageSize { get; set; } = 5000;

    public Task InitializeAsync(CancellationToken cancellationToken) => GuardAsync($"creating the container '{_container}'", async operation =>
    {
        try
        {
            if (await _client.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false) is not null)
            {
                Log.ContainerCreated(_logger, _container, _errors.ServiceUri.ToString());
            }
        }
        catch (RequestFailedException e) when (e.Status > 0 && _errors.Refused(e, operation) is { Failure: AzureStorageFailure.NotPermitted } failure)
        {
            // A SAS or a role scoped to the container may write blobs without being allowed to create containers.
            Log.ContainerNotCreated(_logger, _container, failure.Message);
        }
    }, cancellationToken);

    public Task PingAsync(CancellationToken cancellationToken) => GuardAsync($"reading the container '{_container}'", async _ =>
        await _client.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false), cancellationToken);

    public Task<string> CheckAsync(CancellationToken cancellationToken) => GuardAsync($"reading the container '{_container}'", async _ =>
        await _client.ExistsAsync(cancellationToken).ConfigureAwait(false)
            ? $"container {_container} at {_errors.ServiceUri}"
            : $"container {_container} does not exist at {_errors.ServiceUri}; the first run creates it", cancellationToken);

    public async Task<PutResult> PutAsync(string blobName, Stream content, BlobProperties properties, Func<PutResult, byte[]>? sidecar, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(properties);
        CheckName(blobName);
        if (content is MemoryStream memory && memory.TryGetBuffer(out var whole) && memory.Length - memory.Position < _blockSize)
        {
            // A message the run has read into its own buffer (overlapped uploads): put from that buffer, not a copy.
            var data = whole[(int)memory.Position..];
            memory.Position = memory.Length;
            return await UploadOneAsync(_client.GetBlockBlobClient(blobName), data, properties, sidecar, cancellationToken).ConfigureAwait(false);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(_blockSize);
        try
        {
            return await UploadAsync(blobName, content, properties, sidecar, buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public Task FlushAsync(string account, CancellationToken cancellationToken) => Task.CompletedTask;

    public string LocationOf(string blobName) => _client.GetBlobClient(blobName).Uri.AbsoluteUri;

    public Task<Stream?> OpenReadAsync(string blobName, CancellationToken cancellationToken)
    {
        CheckName(blobName);
        return GuardAsync($"Get Blob {blobName}", async _ =>
        {
            try
            {
                // A stream, whatever the blob's size; the SDK resumes it from where it broke off.
                var download = await _client.GetBlobClient(blobName).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                return download.Value.Content;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                return null;
            }
        }, cancellationToken);
    }

    /// <summary>List Blobs under <c>{account}/</c> with their metadata (the SHA-256 each put recorded), page by page.</summary>
    public async IAsyncEnumerable<StoredBlob> ListAsync(string account, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var operation = $"List Blobs {account}/ in '{_container}'";
        var pages = _client.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, account.ToLowerInvariant() + "/", cancellationToken)
            .AsPages(pageSizeHint: ListPageSize)
            .GetAsyncEnumerator(cancellationToken);
        try
        {
            while (await GuardAsync(operation, async _ => await pages.MoveNextAsync().ConfigureAwait(false), cancellationToken).ConfigureAwait(false))
            {
                foreach (var item in pages.Current.Values)
                {
                    if (BlobNaming.IdOfBlobName(item.Name) is null || item.Properties.LastModified is not { } modified)
                    {
                        continue;
                    }

                    var sha256 = item.Metadata is not null && item.Metadata.TryGetValue("sha256", out var hash) && IsSha256(hash) ? hash : null;
                    yield return new StoredBlob(item.Name, item.Properties.ContentLength ?? 0, sha256, modified);
                }
            }
        }
        finally
        {
            await pages.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<PutResult> UploadAsync(string blobName, Stream content, BlobProperties properties, Func<PutResult, byte[]>? sidecar,
        byte[] buffer, CancellationToken cancellationToken)
    {
        var blob = _client.GetBlockBlobClient(blobName);
        var filled = await FillAsync(content, buffer, _blockSize, cancellationToken).ConfigureAwait(false);
        if (filled < _blockSize)
        {
            // The whole message is in the buffer: one request.
            return await UploadOneAsync(blob, new ArraySegment<byte>(buffer, 0, filled), properties, sidecar, cancellationToken).ConfigureAwait(false);
        }

        if (await DescribeAsync(blob, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            // Stored before a crash: nothing to upload; read the new copy to its end, as the port promises.
            await content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            await PutSidecarAsync(blobName, properties, sidecar, existing, cancellationToken).ConfigureAwait(false);
            return existing;
        }

        // Random per upload, so that blocks staged by an abandoned attempt are never committed with these.
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(buffer, 0, filled);
        long size = filled;
        var uploadId = NewUploadId();
        var blockIds = new List<string>();
        while (filled > 0)
        {
            if (blockIds.Count == MaxBlocks)
            {
                throw new StoreException(
                    $"{blobName} is larger than {MaxBlocks} blocks of {_blockSize} bytes, the most one block blob can hold.", isTransient: false);
            }

            var blockId = BlockId(uploadId, blockIds.Count);
            await PutBlockAsync(blob, blockId, new ArraySegment<byte>(buffer, 0, filled), cancellationToken).ConfigureAwait(false);
            blockIds.Add(blockId);
            filled = await FillAsync(content, buffer, _blockSize, cancellationToken).ConfigureAwait(false);
            hash.AppendData(buffer, 0, filled);
            size += filled;
        }

        var sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());
        await PutSidecarAsync(blobName, properties, sidecar, new PutResult(Created: true), cancellationToken).ConfigureAwait(false);
        var created = await PutBlockListAsync(blob, blockIds, properties, sha256, cancellationToken).ConfigureAwait(false);
        return created ? new PutResult(Created: true) : await KeepExistingAsync(blob, properties, sidecar, size, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A message whole in memory (less than one block): the sidecar, then one conditional Put Blob.</summary>
    private async Task<PutResult> UploadOneAsync(BlockBlobClient blob, ArraySegment<byte> data, BlobProperties properties, Func<PutResult, byte[]>? sidecar,
        CancellationToken cancellationToken)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(data));
        await PutSidecarAsync(blob.Name, properties, sidecar, new PutResult(Created: true), cancellationToken).ConfigureAwait(false);
        if (await PutBlobAsync(blob, data, properties, sha256, cancellationToken).ConfigureAwait(false))
        {
            return new PutResult(Created: true);
        }

        var kept = await DescribeAsync(blob, cancellationToken).ConfigureAwait(false);
        if (kept is null)
        {
            // A conflict without a committed blob: Azurite counts blocks staged under the name (by an abandoned or a
            // concurrent upload) as a blob for Put Blob's If-None-Match, though not for Put Block List's. Commit the
            // buffer as one block, still conditionally.
            var blockId = BlockId(NewUploadId(), 0);
            await PutBlockAsync(blob, blockId, data, cancellationToken).ConfigureAwait(false);
            if (await PutBlockListAsync(blob, [blockId], properties, sha256, cancellationToken).ConfigureAwait(false))
            {
                return new PutResult(Created: true);
            }
        }

        return await KeepExistingAsync(blob, properties, sidecar, data.Count, kept, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The conditional commit found a blob (a crash after an earlier upload, before the ledger knew): it wins, and the
    /// sidecar, already rewritten for a new blob, is rewritten for the kept one.
    /// </summary>
    private async Task<PutResult> KeepExistingAsync(BlockBlobClient blob, BlobProperties properties, Func<PutResult, byte[]>? sidecar, long size, PutResult? kept,
        CancellationToken cancellationToken)
    {
        kept ??= await DescribeAsync(blob, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreException(_errors.Failure($"Get Blob Properties {blob.Name}", "it was reported as existing but cannot be read back",
                AzureStorageFailure.NotFound).Message);
        Log.BlobAlreadyExists(_logger, blob.Name, size, kept.ExistingSize ?? 0);
        await PutSidecarAsync(blob.Name, properties, sidecar, kept, cancellationToken).ConfigureAwait(false);
        return kept;
    }

    /// <summary>Put Blob with <c>If-None-Match: *</c>; false when the blob exists.</summary>
    private Task<bool> PutBlobAsync(BlockBlobClient blob, ArraySegment<byte> data, BlobProperties properties, string sha256, CancellationToken cancellationToken) =>
        GuardAsync($"Put Blob {blob.Name}", async _ =>
        {
            try
            {
                // A seekable stream over the buffer: the SDK rewinds it for a retry.
                using var stream = new MemoryStream(data.Array!, data.Offset, data.Count, writable: false);
                await blob.UploadAsync(stream, new BlobUploadOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = BlobProperties.ContentType },
                    Metadata = Metadata(properties, sha256),
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                }, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (RequestFailedException e) when (IsConflict(e))
            {
                return false;
            }
        }, cancellationToken);

    private Task PutBlockAsync(BlockBlobClient blob, string blockId, ArraySegment<byte> data, CancellationToken cancellationToken) =>
        GuardAsync($"Put Block {blob.Name}", async _ =>
        {
            using var stream = new MemoryStream(data.Array!, data.Offset, data.Count, writable: false);
            await blob.StageBlockAsync(blockId, stream, options: null, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Put Block List with <c>If-None-Match: *</c>; false when the blob exists.</summary>
    private Task<bool> PutBlockListAsync(BlockBlobClient blob, List<string> blockIds, BlobProperties properties, string sha256, CancellationToken cancellationToken) =>
        GuardAsync($"Put Block List {blob.Name}", async _ =>
        {
            try
            {
                await blob.CommitBlockListAsync(blockIds, new CommitBlockListOptions
                {
                    HttpHeaders = new BlobHttpHeaders { ContentType = BlobProperties.ContentType },
                    Metadata = Metadata(properties, sha256),
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                }, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (RequestFailedException e) when (IsConflict(e))
            {
                return false;
            }
        }, cancellationToken);

    /// <summary>If-None-Match: * on an existing blob: 409 BlobAlreadyExists (412 ConditionNotMet from some versions).</summary>
    private static bool IsConflict(RequestFailedException e) => e.Status is 409 or 412;

    /// <summary>The sidecar <c>{id}.json</c> (replacing an older one), before the message's blob is committed.</summary>
    private async Task PutSidecarAsync(string blobName, BlobProperties properties, Func<PutResult, byte[]>? sidecar, PutResult result, CancellationToken cancellationToken)
    {
        if (sidecar is null)
        {
            return;
        }

        var json = sidecar(result);
        var sidecarName = BlobNaming.SidecarOf(blobName);
        await GuardAsync($"Put Blob {sidecarName}", async _ =>
        {
            using var data = new MemoryStream(json, writable: false);
            await _client.GetBlockBlobClient(sidecarName).UploadAsync(data, new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = SidecarContentType },
                Metadata = new Dictionary<string, string> { ["account"] = properties.Account, ["uidlhash"] = properties.UidlHash },
            }, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What is stored under a name (Get Blob Properties, a HEAD), or null when nothing is.</summary>
    private async Task<PutResult?> DescribeAsync(BlockBlobClient blob, CancellationToken cancellationToken)
    {
        var stored = await GuardAsync($"Get Blob Properties {blob.Name}", async _ =>
        {
            try
            {
                return (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                return null;
            }
        }, cancellationToken).ConfigureAwait(false);
        if (stored is null)
        {
            return null;
        }

        if (stored.Metadata.TryGetValue("sha256", out var sha256) && IsSha256(sha256))
        {
            return new PutResult(Created: false, sha256, stored.ContentLength);
        }

        // Not written by this program (no hash in its metadata): hash what is there.
        await using var stream = await OpenReadAsync(blob.Name, cancellationToken).ConfigureAwait(false);
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
            while ((read = await GuardAsync($"Get Blob {blob.Name}", async _ => await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false),
                       cancellationToken).ConfigureAwait(false)) > 0)
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

    private static bool IsSha256(string value) => value is { Length: 64 } && value.All(char.IsAsciiHexDigitLower);

    private static Dictionary<string, string> Metadata(BlobProperties properties, string sha256) => new()
    {
        ["account"] = properties.Account,
        ["uidlhash"] = properties.UidlHash,
        ["sha256"] = sha256,
    };

    private static string NewUploadId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    /// <summary>Block ids of one blob must all have the same length: 8 hex digits of the upload, a dash, 6 digits.</summary>
    private static string BlockId(string uploadId, int index) =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{uploadId}-{index:D6}")));

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

    /// <summary>Runs one SDK call; what it throws becomes a <see cref="StoreException"/> naming the operation.</summary>
    private async Task<T> GuardAsync<T>(string operation, Func<string, Task<T>> action, CancellationToken cancellationToken)
    {
        try
        {
            return await action(operation).ConfigureAwait(false);
        }
        catch (Exception e) when (_errors.Describe(e, operation, cancellationToken) is { } failure)
        {
            throw new StoreException(failure.Message, failure, failure.IsTransient);
        }
    }

    private Task GuardAsync(string operation, Func<string, Task> action, CancellationToken cancellationToken) =>
        GuardAsync(operation, async o =>
        {
            await action(o).ConfigureAwait(false);
            return true;
        }, cancellationToken);
}
