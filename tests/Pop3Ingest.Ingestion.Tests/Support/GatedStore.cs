using Pop3Ingest.Ingestion.Storage;

namespace Pop3Ingest.Ingestion.Tests.Support;

/// <summary>
/// A store in front of a real one whose puts take as long as a test says, and fail when it says: overlapped uploads
/// made visible (how many are under way at once, in which order they start and finish).
/// </summary>
internal sealed class GatedStore(IMessageStore inner) : IMessageStore
{
    private readonly Lock _lock = new();
    private int _puts;
    private int _running;

    /// <summary>Waited for before a put (by its number, from 1) reaches the real store.</summary>
    public Func<int, Task> Before { get; set; } = _ => Task.CompletedTask;

    /// <summary>Puts (by number) that fail, after <see cref="Before"/>, as a store outage.</summary>
    public Func<int, bool> Fails { get; set; } = _ => false;

    /// <summary>The most puts that were under way at once.</summary>
    public int MostAtOnce { get; private set; }

    /// <summary>Puts under way (besides this one) when each put started, by its number.</summary>
    public Dictionary<int, int> OthersAtStart { get; } = [];

    /// <summary>Each put's blob name, by number, and the order in which puts finished.</summary>
    public Dictionary<int, string> Names { get; } = [];

    public List<int> Finished { get; } = [];

    public string Kind => inner.Kind;

    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);

    public Task<string> CheckAsync(CancellationToken cancellationToken) => inner.CheckAsync(cancellationToken);

    public async Task<PutResult> PutAsync(string blobName, Stream content, BlobProperties properties, Func<PutResult, byte[]>? sidecar, CancellationToken cancellationToken)
    {
        int number;
        lock (_lock)
        {
            number = ++_puts;
            OthersAtStart[number] = _running;
            Names[number] = blobName;
            MostAtOnce = Math.Max(MostAtOnce, ++_running);
        }

        try
        {
            await Before(number);
            if (Fails(number))
            {
                await content.CopyToAsync(Stream.Null, cancellationToken);
                throw new StoreException($"injected: put {number} failed");
            }

            return await inner.PutAsync(blobName, content, properties, sidecar, cancellationToken);
        }
        finally
        {
            lock (_lock)
            {
                _running--;
                Finished.Add(number);
            }
        }
    }

    public Task FlushAsync(string account, CancellationToken cancellationToken) => inner.FlushAsync(account, cancellationToken);

    public string LocationOf(string blobName) => inner.LocationOf(blobName);

    public Task<Stream?> OpenReadAsync(string blobName, CancellationToken cancellationToken) => inner.OpenReadAsync(blobName, cancellationToken);

    public IAsyncEnumerable<StoredBlob> ListAsync(string account, CancellationToken cancellationToken) => inner.ListAsync(account, cancellationToken);
}
