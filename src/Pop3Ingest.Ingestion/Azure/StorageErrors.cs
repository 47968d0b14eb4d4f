using Azure;
using Azure.Identity;

namespace Pop3Ingest.Ingestion.Azure;

/// <summary>
/// Turns what the SDK throws into an <see cref="AzureStorageException"/> an operator can act on: the service, its
/// endpoint, the operation, what went wrong in words, the status and error code. Built from the status and the service's
/// error code and first message line only, never from the SDK's whole message (which lists request headers), and then
/// redacted, so that no key or signature reaches a message.
/// </summary>
internal sealed class StorageErrors(string serviceName, string dataRole, StorageEndpoint endpoint, AzureStorageSettings settings)
{
    public string ServiceName { get; } = serviceName;

    /// <summary>The service URL without a trailing slash (and never a SAS).</summary>
    public Uri ServiceUri { get; } = endpoint.ServiceUri;

    /// <summary>
    /// The failure <paramref name="exception"/> stands for, or null when it is none of the SDK's (a bug, or the caller's
    /// own cancellation, which stays an OperationCanceledException).
    /// </summary>
    public AzureStorageException? Describe(Exception exception, string operation, CancellationToken cancellationToken) => exception switch
    {
        _ when cancellationToken.IsCancellationRequested && exception is OperationCanceledException => null,
        RequestFailedException { Status: > 0 } failed => Refused(failed, operation),
        _ => Unreachable(exception, operation),
    };

    /// <summary>A response that is not a success, after the SDK's retries.</summary>
    public AzureStorageException Refused(RequestFailedException exception, string operation)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var status = exception.Status;
        var code = string.IsNullOrEmpty(exception.ErrorCode) ? null : exception.ErrorCode;
        var serverMessage = ServerMessage(exception);
        var authenticationFailed = status == 403 &&
            (code == "AuthenticationFailed" || serverMessage?.StartsWith("Server failed to authenticate", StringComparison.Ordinal) == true);
        var credential = endpoint.Credential;
        var (reason, failure) = status switch
        {
            _ when authenticationFailed => (credential.IsToken
                ? "the token was not accepted"
                : "the account key or SAS is wrong", AzureStorageFailure.AuthenticationFailed),
            403 => ($"the {credential.Kind} is not allowed to do this (a SAS needs the services, resource types and permissions used here; " +
                    $"an identity needs the {dataRole} role)", AzureStorageFailure.NotPermitted),
            401 => ($"the request was not authorized ({credential.Kind})", AzureStorageFailure.AuthenticationFailed),
            404 => ("it does not exist", AzureStorageFailure.NotFound),
            408 or 429 or 500 or 502 or 503 or 504 => ($"the service is busy or failing (retried {settings.MaxRetries} times)", AzureStorageFailure.Busy),
            _ => ("the service refused the request", AzureStorageFailure.Refused),
        };
        var detail = serverMessage is null ? string.Empty : $": {serverMessage}";
        var codeText = code is null ? string.Empty : $" {code}";
        return new AzureStorageException(
            StorageConnectionString.Redact($"{ServiceName} at {ServiceUri}: {operation} failed: {reason} (HTTP {status}{codeText}){detail}"),
            failure, status, code);
    }

    /// <summary>A failure of this program's own, described like the service's.</summary>
    public AzureStorageException Failure(string operation, string reason, AzureStorageFailure failure, Exception? innerException = null) =>
        new(StorageConnectionString.Redact($"{ServiceName} at {ServiceUri}: {operation} failed: {reason}"), failure, 0, null, innerException);

    private AzureStorageException? Unreachable(Exception exception, string operation)
    {
        var tries = 1;
        var last = exception;
        if (exception is AggregateException aggregate)
        {
            // Azure.Core's retry policy gives up with every attempt's exception.
            tries = aggregate.InnerExceptions.Count;
            last = aggregate.InnerExceptions.Count > 0 ? aggregate.InnerExceptions[^1] : exception;
        }

        var after = tries > 1 ? $" after {tries} tries" : string.Empty;
        var reason = last switch
        {
            AuthenticationFailedException => $"Azure.Identity could not get a token ({last.Message.Split('\n')[0].Trim()})",
            OperationCanceledException => $"no answer within {settings.NetworkTimeout.TotalSeconds:0} s{after}",
            RequestFailedException { Status: 0 } or IOException or HttpRequestException =>
                $"cannot connect{after} ({(last.InnerException ?? last).Message})",
            _ => null,
        };
        if (reason is null)
        {
            return null;
        }

        var failure = last is AuthenticationFailedException ? AzureStorageFailure.NoToken : AzureStorageFailure.Unreachable;
        return Failure(operation, reason, failure, exception);
    }

    /// <summary>
    /// The service's message (its first line; the rest is request ids), which the SDK puts first in its own; a HEAD has
    /// no error body, and then the reason phrase says it.
    /// </summary>
    private static string? ServerMessage(RequestFailedException exception)
    {
        var first = exception.Message.Split('\n')[0].Trim();
        if (first.Length > 0 && !first.StartsWith("Service request failed", StringComparison.Ordinal))
        {
            return first;
        }

        var reason = exception.GetRawResponse()?.ReasonPhrase;
        return string.IsNullOrWhiteSpace(reason) ? null : reason;
    }
}
