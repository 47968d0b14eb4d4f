namespace Pop3Ingest.Ingestion.Storage;

/// <summary>The values of <c>Pop3Ingest:Storage:Provider</c>, which are also the stores' <see cref="IMessageStore.Kind"/>.</summary>
public static class StorageProviders
{
    /// <summary>A folder on a local or mounted file system (the default).</summary>
    public const string FileSystem = "FileSystem";

    /// <summary>An Azure Blob Storage container.</summary>
    public const string AzureBlob = "AzureBlob";
}
