using Azure.Core;
using Azure.Core.Pipeline;

namespace Pop3Ingest.Ingestion.Azure;

/// <summary>Sets <c>x-ms-version</c>, which every authorized Blob and Queue request needs.</summary>
internal sealed class StorageVersionPolicy : HttpPipelineSynchronousPolicy
{
    /// <summary>A version Azure and Azurite 3.35 both accept; the REST calls used here have not changed since.</summary>
    public const string ApiVersion = "2021-12-02";

    public override void OnSendingRequest(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        message.Request.Headers.SetValue("x-ms-version", ApiVersion);
    }
}
