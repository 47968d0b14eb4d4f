using Azure;
using Azure.Core;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace Pop3Ingest.Ingestion.Azure;

/// <summary>
/// How requests are authorized: an account key (Shared Key), a SAS token, or an Azure.Identity token credential. Each
/// makes the SDK's client with the SDK's own credential type, so that the secret stays out of every URL (a SAS goes in
/// as <see cref="AzureSasCredential"/>, not in the endpoint's query: blob URLs end up in events and messages).
/// </summary>
internal sealed class StorageCredential
{
    private readonly Func<Uri, BlobClientOptions, BlobServiceClient> _blob;
    private readonly Func<Uri, QueueClientOptions, QueueServiceClient> _queue;

    private StorageCredential(string kind, Func<Uri, BlobClientOptions, BlobServiceClient> blob, Func<Uri, QueueClientOptions, QueueServiceClient> queue)
    {
        Kind = kind;
        _blob = blob;
        _queue = queue;
    }

    /// <summary>For messages: "account key", "SAS", "token credential"; never the secret.</summary>
    public string Kind { get; }

    public bool IsToken => Kind == "token credential";

    public static StorageCredential SharedKey(string accountName, byte[] key)
    {
        var credential = new StorageSharedKeyCredential(accountName, Convert.ToBase64String(key));
        return new("account key", (uri, options) => new BlobServiceClient(uri, credential, options), (uri, options) => new QueueServiceClient(uri, credential, options));
    }

    public static StorageCredential Sas(string token)
    {
        var credential = new AzureSasCredential(token);
        return new("SAS", (uri, options) => new BlobServiceClient(uri, credential, options), (uri, options) => new QueueServiceClient(uri, credential, options));
    }

    public static StorageCredential Token(TokenCredential credential) =>
        new("token credential", (uri, options) => new BlobServiceClient(uri, credential, options), (uri, options) => new QueueServiceClient(uri, credential, options));

    internal BlobServiceClient BlobService(Uri serviceUri, BlobClientOptions options) => _blob(serviceUri, options);

    internal QueueServiceClient QueueService(Uri serviceUri, QueueClientOptions options) => _queue(serviceUri, options);
}

/// <summary>One storage service (the Blob or the Queue endpoint of an account) and how to authorize against it.</summary>
internal sealed record StorageEndpoint(Uri ServiceUri, StorageCredential Credential)
{
    /// <summary>The endpoint of the connection string's Blob service.</summary>
    public static StorageEndpoint Blob(StorageConnectionString connection) =>
        new(connection.BlobEndpoint ?? throw new FormatException("no BlobEndpoint: set BlobEndpoint, or AccountName for the standard endpoints."), CredentialOf(connection));

    /// <summary>The endpoint of the connection string's Queue service.</summary>
    public static StorageEndpoint Queue(StorageConnectionString connection) =>
        new(connection.QueueEndpoint ?? throw new FormatException("no QueueEndpoint: set QueueEndpoint, or AccountName for the standard endpoints."), CredentialOf(connection));

    private static StorageCredential CredentialOf(StorageConnectionString connection) =>
        connection.AccountKey is { } key
            ? StorageCredential.SharedKey(connection.AccountName!, key)
            : StorageCredential.Sas(connection.SharedAccessSignature!);
}
