namespace Pop3Ingest.Ingestion.Azure;

/// <summary>
/// A Blob or Queue request failed; the message names the service, the endpoint and the operation, and says what to do.
/// The adapters turn it into their port's exception (StoreException, NotifierException).
/// </summary>
internal sealed class AzureStorageException(string message, AzureStorageFailure failure, int status, string? errorCode, Exception? innerException = null)
    : Exception(message, innerException)
{
    public AzureStorageFailure Failure { get; } = failure;

    /// <summary>The HTTP status; 0 when no response arrived (connection, timeout, token).</summary>
    public int Status { get; } = status;

    /// <summary>The service's error code (<c>x-ms-error-code</c>), such as BlobAlreadyExists.</summary>
    public string? ErrorCode { get; } = errorCode;

    /// <summary>Whether the same request may succeed later (an outage, a busy service), as opposed to a configuration problem.</summary>
    public bool IsTransient => Failure is AzureStorageFailure.Unreachable or AzureStorageFailure.Busy;
}

/// <summary>What kind of failure, for callers that handle them differently.</summary>
internal enum AzureStorageFailure
{
    /// <summary>No answer: connection refused or reset, DNS, timeout.</summary>
    Unreachable,

    /// <summary>408, 429, 5xx after the retries.</summary>
    Busy,

    /// <summary>The signature did not verify: a wrong account key or SAS, or a refused token.</summary>
    AuthenticationFailed,

    /// <summary>Authenticated, but not allowed (SAS permissions, Azure role).</summary>
    NotPermitted,

    /// <summary>Azure.Identity could not get a token.</summary>
    NoToken,

    NotFound,

    /// <summary>Anything else the service refused, or a limit of this program.</summary>
    Refused,
}
