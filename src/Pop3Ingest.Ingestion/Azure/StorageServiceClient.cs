using System.Xml;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;

namespace Pop3Ingest.Ingestion.Azure;

/// <summary>
/// The REST plumbing one storage service needs: an Azure.Core pipeline (x-ms-version, the credential's policy,
/// retries with exponential back-off, a network timeout, diagnostics), request creation, and the translation of
/// failures into <see cref="AzureStorageException"/> messages an operator can act on. Nothing here knows blobs or queues.
/// </summary>
internal sealed class StorageServiceClient
{
    private const int MaxErrorBodyBytes = 16 * 1024;
    private readonly HttpPipeline _pipeline;
    private readonly AzureStorageSettings _settings;
    private readonly string _dataRole;

    /// <param name="serviceName">For messages: "Azure Blob Storage".</param>
    /// <param name="dataRole">The Azure role an identity needs, for messages: "Storage Blob Data Contributor".</param>
    /// <param name="endpoint">The service URL and the credential.</param>
    /// <param name="settings">Retries, timeouts, transport.</param>
    public StorageServiceClient(string serviceName, string dataRole, StorageEndpoint endpoint, AzureStorageSettings settings)
    {
        ServiceName = serviceName;
        ServiceUri = endpoint.ServiceUri;
        Credential = endpoint.Credential;
        _dataRole = dataRole;
        _settings = settings;
        HttpPipelinePolicy[] perCall = [new StorageVersionPolicy(), .. Only(endpoint.Credential.CreatePerCallPolicy())];
        HttpPipelinePolicy[] perRetry = [.. Only(endpoint.Credential.CreatePerRetryPolicy())];
        _pipeline = HttpPipelineBuilder.Build(new StorageClientOptions(settings), perCall, perRetry, new ResponseClassifier());
    }

    public string ServiceName { get; }

    /// <summary>The service URL without a trailing slash (and never a SAS).</summary>
    public Uri ServiceUri { get; }

    public StorageCredential Credential { get; }

    /// <summary>The URL of a resource below the service; each segment is escaped, '/' inside a blob name is kept.</summary>
    public Uri UriOf(string path) =>
        new($"{ServiceUri.AbsoluteUri.TrimEnd('/')}/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}");

    public HttpMessage CreateMessage(RequestMethod method, Uri uri, string? query = null)
    {
        var message = _pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(uri);
        if (query is not null)
        {
            message.Request.Uri.Query = "?" + query;
        }

        return message;
    }

    /// <summary>
    /// Sends (with retries) and returns the response whatever its status; throws <see cref="AzureStorageException"/>
    /// when no response arrived. Cancellation by <paramref name="cancellationToken"/> stays an OperationCanceledException.
    /// </summary>
    public async Task<Response> SendAsync(HttpMessage message, string operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            await _pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            return message.Response;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (Unreachable(e, operation) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>The failure a non-success response stands for (reads the error body, at most 16 KiB).</summary>
    public async Task<AzureStorageException> FailureAsync(Response response, string operation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var (code, serverMessage) = await ErrorOfAsync(response, cancellationToken).ConfigureAwait(false);
        // A HEAD has no error body; the service puts its message in the reason phrase as well.
        serverMessage ??= string.IsNullOrWhiteSpace(response.ReasonPhrase) ? null : response.ReasonPhrase;
        var status = response.Status;
        var authenticationFailed = status == 403 &&
            (code == "AuthenticationFailed" || serverMessage?.StartsWith("Server failed to authenticate", StringComparison.Ordinal) == true);
        var (reason, failure) = status switch
        {
            _ when authenticationFailed => (Credential.Kind == "token credential"
                ? "the token was not accepted"
                : "the account key or SAS is wrong", AzureStorageFailure.AuthenticationFailed),
            403 => ($"the {Credential.Kind} is not allowed to do this (a SAS needs the services, resource types and permissions used here; " +
                    $"an identity needs the {_dataRole} role)", AzureStorageFailure.NotPermitted),
            401 => ($"the request was not authorized ({Credential.Kind})", AzureStorageFailure.AuthenticationFailed),
            404 => ("it does not exist", AzureStorageFailure.NotFound),
            408 or 429 or 500 or 502 or 503 or 504 => ($"the service is busy or failing (retried {_settings.MaxRetries} times)", AzureStorageFailure.Busy),
            _ => ("the service refused the request", AzureStorageFailure.Refused),
        };
        var detail = serverMessage is null ? string.Empty : $": {serverMessage}";
        var codeText = code is null ? string.Empty : $" {code}";
        return new AzureStorageException(
            StorageConnectionString.Redact($"{ServiceName} at {ServiceUri}: {operation} failed: {reason} (HTTP {status}{codeText}){detail}"),
            failure, status, code);
    }

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
            OperationCanceledException => $"no answer within {_settings.NetworkTimeout.TotalSeconds:0} s{after}",
            RequestFailedException { Status: 0 } or IOException or HttpRequestException =>
                $"cannot connect{after} ({(last.InnerException ?? last).Message})",
            _ => null,
        };
        if (reason is null)
        {
            return null;
        }

        var failure = last is AuthenticationFailedException ? AzureStorageFailure.NoToken : AzureStorageFailure.Unreachable;
        return new AzureStorageException(
            StorageConnectionString.Redact($"{ServiceName} at {ServiceUri}: {operation} failed: {reason}"), failure, 0, null, exception);
    }

    private static async Task<(string? Code, string? Message)> ErrorOfAsync(Response response, CancellationToken cancellationToken)
    {
        response.Headers.TryGetValue("x-ms-error-code", out var code);
        string? message = null;
        try
        {
            if (response.ContentStream is { } stream)
            {
                var buffer = new byte[MaxErrorBodyBytes];
                var length = 0;
                int read;
                while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    length += read;
                }

                (var bodyCode, message) = ParseError(buffer.AsMemory(0, length));
                code ??= bodyCode;
            }
        }
        catch (Exception e) when (e is IOException or XmlException or InvalidOperationException or NotSupportedException)
        {
            // The status and code say enough.
        }

        return (string.IsNullOrEmpty(code) ? null : code, message);
    }

    /// <summary>The <c>&lt;Error&gt;&lt;Code/&gt;&lt;Message/&gt;&lt;/Error&gt;</c> body; only the first line of the message (the rest is request ids).</summary>
    private static (string? Code, string? Message) ParseError(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            return (null, null);
        }

        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreWhitespace = true };
        using var stream = new MemoryStream(body.ToArray(), writable: false);
        using var reader = XmlReader.Create(stream, settings);
        string? code = null;
        string? message = null;
        reader.MoveToContent();
        while (!reader.EOF)
        {
            // ReadElementContentAsString leaves the reader on the next node already: no Read() after it.
            if (reader.NodeType == XmlNodeType.Element && reader.Depth == 1 && reader.Name == "Code")
            {
                code = reader.ReadElementContentAsString();
            }
            else if (reader.NodeType == XmlNodeType.Element && reader.Depth == 1 && reader.Name == "Message")
            {
                message = reader.ReadElementContentAsString().Split('\n')[0].Trim();
            }
            else
            {
                reader.Read();
            }
        }

        return (code, message);
    }

    private static IEnumerable<HttpPipelinePolicy> Only(HttpPipelinePolicy? policy) => policy is null ? [] : [policy];

    private sealed class StorageClientOptions : ClientOptions
    {
        public StorageClientOptions(AzureStorageSettings settings)
        {
            Retry.Mode = RetryMode.Exponential;
            Retry.MaxRetries = settings.MaxRetries;
            Retry.Delay = settings.RetryDelay;
            Retry.MaxDelay = settings.MaxRetryDelay;
            Retry.NetworkTimeout = settings.NetworkTimeout;
            Diagnostics.ApplicationId = "Pop3Ingest";
            if (settings.Transport is { } transport)
            {
                Transport = transport;
            }
        }
    }
}
