using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Storage.AzureBlob;
using Pop3Ingest.Ingestion.Tests.Contracts;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// The store contract on Azure Blob against a real Azurite: each store a container of its own that does not exist yet.
/// Blocks of 64 KiB, so that the contract's small messages go up as one Put Blob and its larger ones as staged blocks.
/// </summary>
public sealed class AzureBlobMessageStoreContractTests(AzuriteFixture azurite) : MessageStoreContractTests, IClassFixture<AzuriteFixture>
{
    private static readonly Ingestion.Azure.AzureStorageSettings s_smallBlocks = AzuriteFixture.FastRetries with { BlockSize = 64 * 1024 };

    protected override bool ListsSha256 => true;

    protected override string ExpectedKind => StorageProviders.AzureBlob;

    protected override IMessageStore NewStore() => azurite.Store(AzuriteFixture.NewName("c"), s_smallBlocks);

    protected override Task PlantAsync(IMessageStore store, string blobName, byte[] content) =>
        azurite.Inspector.PutBlobAsync(((AzureBlobMessageStore)store).Container, blobName, content);
}
