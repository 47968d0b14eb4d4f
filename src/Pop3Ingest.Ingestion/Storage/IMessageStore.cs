namespace Pop3Ingest.Ingestion.Storage;

/// <summary>
/// The blob store port. Creation is create-if-absent: a blob that already exists is never replaced, and the
/// caller learns what is there instead (a crash after an upload, before the ledger knew).
/// </summary>
public interface IMessageStore
{
    /// <summary>Short name for logs and the status page ("FileSystem", "AzureBlob").</summary>
    string Kind { get; }

    /// <summary>Prepares the store (create the container or folder, clean temp files).</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Checks that the store answers (readiness).</summary>
    Task PingAsync(CancellationToken cancellationToken);

    /// <summary>
    /// What <c>check</c> reports, changing nothing: that the store can be reached and written, and what the first run will
    /// create (the folder, the container). Throws a <see cref="StoreException"/> when it cannot be used.
    /// </summary>
    Task<string> CheckAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Stores the content under <paramref name="blobName"/> unless a blob of that name exists. The content stream is
    /// read to its end either way. When <paramref name="sidecar"/> is given, it is called once the content has been
    /// read, and its JSON is stored beside the blob (replacing an older sidecar) before the blob becomes visible.
    /// A store may finish a put later (the file store syncs and renames a whole group at once): the blob is certain to
    /// exist and be durable only once <see cref="FlushAsync"/> for its account has returned, and a put that fails
    /// then makes that <see cref="FlushAsync"/> throw. Puts of different blobs may run at once (overlapped uploads); a
    /// store may read the buffer of a <see cref="MemoryStream"/> content directly instead of copying it.
    /// </summary>
    Task<PutResult> PutAsync(string blobName, Stream content, BlobProperties properties, Func<PutResult, byte[]>? sidecar, CancellationToken cancellationToken);

    /// <summary>
    /// Makes everything put so far for <paramref name="account"/> (<see cref="BlobProperties.Account"/>) durable: a
    /// group commit, called before the ledger records it. Scoped to one account, so that runs of other accounts
    /// sharing the store neither commit nor fail each other's messages.
    /// </summary>
    Task FlushAsync(string account, CancellationToken cancellationToken);

    /// <summary>Where consumers find the blob: a URL, or a path relative to the store root.</summary>
    string LocationOf(string blobName);

    /// <summary>Opens a stored blob for reading, or null when it does not exist.</summary>
    Task<Stream?> OpenReadAsync(string blobName, CancellationToken cancellationToken);

    /// <summary>
    /// The message blobs (<c>.eml</c>; no sidecars, nothing of the store's own) stored for an account, in no particular
    /// order: what <c>ledger rebuild</c> matches against the server's UIDLs.
    /// </summary>
    IAsyncEnumerable<StoredBlob> ListAsync(string account, CancellationToken cancellationToken);
}

/// <summary>Metadata that goes with a blob.</summary>
public sealed record BlobProperties(string Account, string UidlHash)
{
    public const string ContentType = "message/rfc822";
}

/// <summary>A message blob found in the store.</summary>
/// <param name="BlobName">Its name, <c>{account}/{yyyy}/{MM}/{dd}/{id}.eml</c>.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Sha256">The SHA-256 the store keeps for it, or null when it keeps none (the folder store).</param>
/// <param name="LastModified">When it was written.</param>
public sealed record StoredBlob(string BlobName, long Size, string? Sha256, DateTimeOffset LastModified);

/// <summary>The outcome of a put.</summary>
/// <param name="Created">False when the blob was already there and was kept.</param>
/// <param name="ExistingSha256">For a kept blob: the SHA-256 of what is stored.</param>
/// <param name="ExistingSize">For a kept blob: its size.</param>
public sealed record PutResult(bool Created, string? ExistingSha256 = null, long? ExistingSize = null);
