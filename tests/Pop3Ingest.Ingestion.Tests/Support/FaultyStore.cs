using Pop3Ingest.Ingestion.Storage;

namespace Pop3Ingest.Ingestion.Tests.Support;

/// <summary>A store that fails on command, in front of a real one: faults at the store port.</summary>
internal sealed class FaultyStore(IMessageStore inner) : IMessageStore
{
    private int _puts;

    public int? FailPutNumber { get; set; }

    public bool FailFlush { get; set; }

    public Action<int>? OnPut { get; set; }

    public string Kind => inner.Kind;

    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);

    public Task<string> CheckAsync(CancellationToken cancellationToken) => inner.CheckAsync(cancellationToken);

    public async Task<PutResult> PutAsync(string blobName, Stream content, BlobProperties properties, Func<PutResult, byte[]>? sidecar, CancellationToken cancellationToken)
    {
        var number = Interlocked.Increment(ref _puts);
        OnPut?.Invoke(number);
        if (number >= FailPutNumber)
        {
            // Fail in the middle of the upload: part of the content read, then the store gives up.
            _ = await content.ReadAsync(new byte[10], cancellationToken);
            throw new StoreException("injected: the store is down");
        }

        return await inner.PutAsync(blobName, content, properties, sidecar, cancellationToken);
    }

    public Task FlushAsync(string account, CancellationToken cancellationToken) =>
        FailFlush ? throw new StoreException("injected: sync failed") : inner.FlushAsync(account, cancellationToken);

    public string LocationOf(string blobName) => inner.LocationOf(blobName);

    public Task<Stream?> OpenReadAsync(string blobName, CancellationToken cancellationToken) => inner.OpenReadAsync(blobName, cancellationToken);

    public IAsyncEnumerable<StoredBlob> ListAsync(string account, CancellationToken cancellationToken) => inner.ListAsync(account, cancellationToken);
}
