using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Pop3Ingest.Ingestion.Azure;

/// <summary>
/// Shared Key authorization for the Blob and Queue services, written to
/// https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key (version 2009-09-19 and later):
/// <c>Authorization: SharedKey {account}:{Base64(HMAC-SHA256(key, UTF-8(StringToSign)))}</c>. A per-retry policy, so that
/// every attempt carries a fresh <c>x-ms-date</c> (the service refuses requests older than 15 minutes).
/// </summary>
internal sealed class SharedKeyPolicy : HttpPipelineSynchronousPolicy
{
    // The headers of the StringToSign, in the specification's order, after the verb.
    private static readonly string[] s_standardHeaders =
    [
        "Content-Encoding", "Content-Language", "Content-Length", "Content-MD5", "Content-Type", "Date",
        "If-Modified-Since", "If-Match", "If-None-Match", "If-Unmodified-Since", "Range",
    ];

    private readonly string _accountName;
    private readonly byte[] _key;
    private readonly TimeProvider _time;

    public SharedKeyPolicy(string accountName, byte[] key, TimeProvider? time = null)
    {
        _accountName = accountName;
        _key = key;
        _time = time ?? TimeProvider.System;
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var request = message.Request;
        request.Headers.SetValue("x-ms-date", _time.GetUtcNow().ToString("R", CultureInfo.InvariantCulture));
        request.Headers.SetValue(HttpHeader.Names.Authorization, $"SharedKey {_accountName}:{Sign(StringToSign(request, _accountName), _key)}");
    }

    /// <summary>Base64 of HMAC-SHA256 over the UTF-8 bytes of the string to sign.</summary>
    internal static string Sign(string stringToSign, byte[] key) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));

    /// <summary>
    /// VERB, the eleven standard headers (Content-Length empty when zero, since version 2015-02-21), the canonicalized
    /// <c>x-ms-</c> headers, and the canonicalized resource, each line ending in <c>\n</c> except the last.
    /// </summary>
    internal static string StringToSign(Request request, string accountName)
    {
        var builder = new StringBuilder(512);
        builder.Append(request.Method.Method.ToUpperInvariant()).Append('\n');
        foreach (var name in s_standardHeaders)
        {
            builder.Append(name == "Content-Length" ? ContentLength(request) : HeaderValue(request, name)).Append('\n');
        }

        AppendCanonicalizedHeaders(builder, request);
        AppendCanonicalizedResource(builder, request.Uri.ToUri(), accountName);
        return builder.ToString();
    }

    private static string ContentLength(Request request)
    {
        // The transport sends the length the content reports; zero and no content both sign as empty.
        if (request.Content is { } content && content.TryComputeLength(out var length) && length > 0)
        {
            return length.ToString(CultureInfo.InvariantCulture);
        }

        return request.Headers.TryGetValue("Content-Length", out var header) && header != "0" ? header : string.Empty;
    }

    private static string HeaderValue(Request request, string name) =>
        request.Headers.TryGetValue(name, out var value) ? value : string.Empty;

    /// <summary>Every <c>x-ms-</c> header, name in lower case, sorted by name, <c>name:value\n</c> with the value trimmed.</summary>
    private static void AppendCanonicalizedHeaders(StringBuilder builder, Request request)
    {
        var headers = new List<(string Name, string Value)>();
        foreach (var header in request.Headers)
        {
            if (header.Name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
            {
                headers.Add((header.Name.ToLowerInvariant(), header.Value));
            }
        }

        headers.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var (name, value) in headers)
        {
            builder.Append(name).Append(':').Append(CollapseWhitespace(value.Trim())).Append('\n');
        }
    }

    /// <summary>
    /// <c>/{account}{encoded path}</c>, then each query parameter as <c>\nname:value</c>: names in lower case and
    /// sorted, names and values URL-decoded, several values of one name sorted and joined with commas.
    /// </summary>
    private static void AppendCanonicalizedResource(StringBuilder builder, Uri uri, string accountName)
    {
        builder.Append('/').Append(accountName).Append(uri.AbsolutePath.Length == 0 ? "/" : uri.AbsolutePath);
        var query = uri.Query.TrimStart('?');
        if (query.Length == 0)
        {
            return;
        }

        var parameters = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]).ToLowerInvariant();
            var value = equals < 0 ? string.Empty : Uri.UnescapeDataString(pair[(equals + 1)..]);
            if (!parameters.TryGetValue(name, out var values))
            {
                parameters[name] = values = [];
            }

            values.Add(value);
        }

        foreach (var (name, values) in parameters)
        {
            values.Sort(StringComparer.Ordinal);
            builder.Append('\n').Append(name).Append(':').AppendJoin(',', values);
        }
    }

    private static string CollapseWhitespace(string value)
    {
        if (!value.Contains("  ", StringComparison.Ordinal) && !value.Contains('\t', StringComparison.Ordinal))
        {
            return value;
        }

        return string.Join(' ', value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
    }
}
