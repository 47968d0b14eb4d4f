using Azure.Core;
using Azure.Core.Pipeline;

namespace Pop3Ingest.Ingestion.Azure;

/// <summary>Authorizes with a SAS token: appends it to every request's query, once per call (retries keep the URL).</summary>
internal sealed class SasPolicy(string sharedAccessSignature) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var query = message.Request.Uri.Query;
        message.Request.Uri.Query = string.IsNullOrEmpty(query) || query == "?"
            ? "?" + sharedAccessSignature
            : query + "&" + sharedAccessSignature;
    }
}
