using Azure.Core;
using Azure.Core.Pipeline;

namespace Pop3Ingest.Ingestion.Azure;

/// <summary>How requests are authorized: an account key (Shared Key), a SAS token, or an Azure.Identity token credential.</summary>
internal sealed class StorageCredential
{
    /// <summary>The OAuth scope of Azure Storage (Blob and Queue alike).</summary>
    public const string StorageScope = "https://storage.azure.com/.default";

    private readonly Func<HttpPipelinePolicy?> _perCall;
    private readonly Func<HttpPipelinePolicy?> _perRetry;

    private StorageCredential(string kind, Func<HttpPipelinePolicy?> perCall, Func<HttpPipelinePolicy?> perRetry)
    {
        Kind = kind;
        _perCall = perCall;
        _perRetry = perRetry;
    }

    /// <summary>For messages: "account key", "SAS", "token credential"; never the secret.</summary>
    public string Kind { get; }

    public static StorageCredential SharedKey(string accountName, byte[] key) =>
        new("account key", () => null, () => new SharedKeyPolicy(accountName, key));

    public static StorageCredential Sas(string token) =>
        new("SAS", () => new SasPolicy(token), () => null);

    public static StorageCredential Token(TokenCredential credential) =>
        new("token credential", () => null, () => new BearerTokenAuthenticationPolicy(credential, StorageScope));

    internal HttpPipelinePolicy? CreatePerCallPolicy() => _perCall();

    internal HttpPipelinePolicy? CreatePerRetryPolicy() => _perRetry();
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
