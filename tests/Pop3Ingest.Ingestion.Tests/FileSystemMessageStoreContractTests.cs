using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Storage.FileSystem;
using Pop3Ingest.Ingestion.Tests.Contracts;
using Pop3Ingest.Ingestion.Tests.Support;

namespace Pop3Ingest.Ingestion.Tests;

/// <summary>
/// The store contract on the folder store, with unnamed temp files where Linux offers them; each store a folder that
/// does not exist yet. After every test, nothing half-written is left in any store's <c>.tmp</c>.
/// </summary>
public class FileSystemMessageStoreContractTests : MessageStoreContractTests
{
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-store-contract-").FullName;
    private readonly List<string> _roots = [];

    /// <summary>Whether the store is made to use named temp files, its path where unnamed ones are not available.</summary>
    protected virtual bool NamedTempFilesOnly => false;

    protected override bool ListsSha256 => false;

    protected override string ExpectedKind => StorageProviders.FileSystem;

    protected override IMessageStore NewStore()
    {
        var root = Path.Combine(_folder, $"store{_roots.Count + 1}");
        _roots.Add(root);
        return new FileSystemMessageStore(root, NamedTempFilesOnly);
    }

    protected override async Task PlantAsync(IMessageStore store, string blobName, byte[] content)
    {
        var path = ((FileSystemMessageStore)store).PathOf(blobName);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, content);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            foreach (var root in _roots)
            {
                StoreFolder.AssertNoPartialFiles(root);
            }
        }
        finally
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}

/// <summary>The store contract on the folder store's other path: named temp files, renamed into place.</summary>
public sealed class FileSystemMessageStoreNamedTempFilesContractTests : FileSystemMessageStoreContractTests
{
    protected override bool NamedTempFilesOnly => true;
}
