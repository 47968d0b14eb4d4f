using System.Text.RegularExpressions;

namespace Pop3Ingest.Ingestion.Azure;

/// <summary>
/// An Azure Storage connection string: <c>Key=Value</c> pairs separated by <c>;</c>, keys case-insensitive. Three forms:
/// an account key (<c>AccountName</c> + <c>AccountKey</c>, with <c>DefaultEndpointsProtocol</c>/<c>EndpointSuffix</c> or
/// explicit <c>BlobEndpoint</c>/<c>QueueEndpoint</c>), a SAS (<c>SharedAccessSignature</c> with explicit endpoints or an
/// <c>AccountName</c>), and <c>UseDevelopmentStorage=true</c> (Azurite on its standard ports 10000 and 10001).
/// Errors name the key at fault and never echo a secret.
/// </summary>
internal sealed partial class StorageConnectionString
{
    /// <summary>Azurite's account and its published key (not a secret; every emulator has it).</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    public const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly HashSet<string> s_ignoredKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        // Portal connection strings list every service; this program uses Blob and Queue only.
        "TableEndpoint", "FileEndpoint", "BlobSecondaryEndpoint", "QueueSecondaryEndpoint",
        "TableSecondaryEndpoint", "FileSecondaryEndpoint",
    };

    private static readonly HashSet<string> s_knownKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "DefaultEndpointsProtocol", "AccountName", "AccountKey", "EndpointSuffix", "BlobEndpoint", "QueueEndpoint",
        "SharedAccessSignature", "UseDevelopmentStorage", "DevelopmentStorageProxyUri",
    };

    private StorageConnectionString(Uri? blobEndpoint, Uri? queueEndpoint, string? accountName, byte[]? accountKey, string? sharedAccessSignature)
    {
        BlobEndpoint = blobEndpoint;
        QueueEndpoint = queueEndpoint;
        AccountName = accountName;
        AccountKey = accountKey;
        SharedAccessSignature = sharedAccessSignature;
    }

    /// <summary>The Blob service URL (for Azurite, path-style: <c>http://127.0.0.1:10000/devstoreaccount1</c>); null when the string has none.</summary>
    public Uri? BlobEndpoint { get; }

    /// <summary>The Queue service URL; null when the string has none.</summary>
    public Uri? QueueEndpoint { get; }

    public string? AccountName { get; }

    /// <summary>The decoded account key, when the string authorizes with Shared Key.</summary>
    public byte[]? AccountKey { get; }

    /// <summary>The SAS token without a leading '?', when the string authorizes with a SAS.</summary>
    public string? SharedAccessSignature { get; }

    /// <summary>Parses a connection string; a <see cref="FormatException"/> names the key at fault.</summary>
    public static StorageConnectionString Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var pairs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var parts = connectionString.Split(';');
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (string.IsNullOrWhiteSpace(part))
            {
                continue; // a trailing ';' is common
            }

            // Values hold '=' themselves (Base64 keys, SAS tokens): split at the first one only.
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                // Never echo the part: a pasted key without "AccountKey=" is a secret.
                throw new FormatException($"part {i + 1} (between semicolons) is not a Key=Value pair.");
            }

            var key = part[..equals].Trim();
            var value = part[(equals + 1)..].Trim();
            if (!s_knownKeys.Contains(key) && !s_ignoredKeys.Contains(key))
            {
                // Name the key only when it looks like one: a pasted Base64 key splits at its '=' padding.
                throw new FormatException(KeyName().IsMatch(key)
                    ? $"{key} is not a known connection string key."
                    : $"part {i + 1} (between semicolons) does not start with a known key.");
            }

            if (!pairs.TryAdd(key, value))
            {
                throw new FormatException($"{key} appears more than once.");
            }
        }

        if (pairs.Count == 0)
        {
            throw new FormatException("the connection string is empty.");
        }

        return pairs.ContainsKey("UseDevelopmentStorage") ? ParseDevelopment(pairs) : ParseAccount(pairs);
    }

    /// <summary>Hides account keys and SAS signatures in any text (errors, logs): <c>AccountKey=***</c>, <c>sig=***</c>.</summary>
    public static string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return SecretPattern().Replace(text, "$1***");
    }

    private static StorageConnectionString ParseDevelopment(Dictionary<string, string> pairs)
    {
        if (!pairs["UseDevelopmentStorage"].Equals("true", StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException("UseDevelopmentStorage must be 'true' (or left out).");
        }

        foreach (var key in pairs.Keys)
        {
            if (!key.Equals("UseDevelopmentStorage", StringComparison.OrdinalIgnoreCase) &&
                !key.Equals("DevelopmentStorageProxyUri", StringComparison.OrdinalIgnoreCase))
            {
                throw new FormatException($"{key} cannot be combined with UseDevelopmentStorage=true (which means Azurite on 127.0.0.1:10000 and 10001); " +
                    "to reach Azurite elsewhere, give AccountName, AccountKey, BlobEndpoint and QueueEndpoint instead.");
            }
        }

        var host = new Uri("http://127.0.0.1");
        if (pairs.TryGetValue("DevelopmentStorageProxyUri", out var proxy))
        {
            host = ParseEndpoint("DevelopmentStorageProxyUri", proxy);
        }

        // Azurite is path-style: the account is the first path segment.
        return new StorageConnectionString(
            new UriBuilder(host.Scheme, host.Host, 10000, DevelopmentAccountName).Uri,
            new UriBuilder(host.Scheme, host.Host, 10001, DevelopmentAccountName).Uri,
            DevelopmentAccountName,
            Convert.FromBase64String(DevelopmentAccountKey),
            sharedAccessSignature: null);
    }

    private static StorageConnectionString ParseAccount(Dictionary<string, string> pairs)
    {
        var accountName = pairs.GetValueOrDefault("AccountName");
        if (accountName is not null && !AccountNamePattern().IsMatch(accountName))
        {
            throw new FormatException($"AccountName '{accountName}' is not a storage account name (3-24 lower-case letters and digits).");
        }

        byte[]? key = null;
        if (pairs.TryGetValue("AccountKey", out var keyText))
        {
            if (accountName is null)
            {
                throw new FormatException("AccountKey needs AccountName (the key signs requests in the account's name).");
            }

            try
            {
                key = Convert.FromBase64String(keyText);
            }
            catch (FormatException)
            {
                // Never echo the key.
                throw new FormatException("AccountKey is not valid Base64 (copy it whole from the storage account's access keys).");
            }

            if (key.Length == 0)
            {
                throw new FormatException("AccountKey is empty.");
            }
        }

        string? sas = null;
        if (pairs.TryGetValue("SharedAccessSignature", out var sasText))
        {
            if (key is not null)
            {
                throw new FormatException("set AccountKey or SharedAccessSignature, not both.");
            }

            sas = sasText.TrimStart('?');
            if (!sas.Contains("sig=", StringComparison.Ordinal) || !sas.Contains("sv=", StringComparison.Ordinal))
            {
                throw new FormatException("SharedAccessSignature is not a SAS token (it needs at least sv= and sig=).");
            }
        }

        if (key is null && sas is null)
        {
            throw new FormatException("no credentials: set AccountKey or SharedAccessSignature " +
                "(or use ServiceUri with a managed identity instead of a connection string).");
        }

        var protocol = pairs.GetValueOrDefault("DefaultEndpointsProtocol") ?? "https";
        if (!protocol.Equals("https", StringComparison.OrdinalIgnoreCase) && !protocol.Equals("http", StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"DefaultEndpointsProtocol must be https or http, not '{protocol}'.");
        }

        var suffix = pairs.GetValueOrDefault("EndpointSuffix") ?? "core.windows.net";
        if (Uri.CheckHostName(suffix) != UriHostNameType.Dns)
        {
            throw new FormatException($"EndpointSuffix '{suffix}' is not a DNS suffix such as core.windows.net.");
        }

        var blob = Endpoint(pairs, "BlobEndpoint", accountName, protocol, "blob", suffix);
        var queue = Endpoint(pairs, "QueueEndpoint", accountName, protocol, "queue", suffix);
        if (blob is null && queue is null)
        {
            throw new FormatException("no endpoint: set AccountName (endpoints follow from it) or BlobEndpoint/QueueEndpoint.");
        }

        return new StorageConnectionString(blob, queue, accountName, key, sas);
    }

    private static Uri? Endpoint(Dictionary<string, string> pairs, string key, string? accountName, string protocol, string service, string suffix)
    {
        if (pairs.TryGetValue(key, out var explicitEndpoint))
        {
            return ParseEndpoint(key, explicitEndpoint);
        }

        return accountName is null ? null : new Uri($"{protocol.ToLowerInvariant()}://{accountName}.{service}.{suffix}");
    }

    private static Uri ParseEndpoint(string key, string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new FormatException($"{key} '{Redact(value)}' is not an absolute http or https URL.");
        }

        if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new FormatException($"{key} must not carry a query; put a SAS token in SharedAccessSignature.");
        }

        // One form for every caller: no trailing slash, so that paths append with "/".
        return new Uri(uri.GetLeftPart(UriPartial.Path).TrimEnd('/'));
    }

    [GeneratedRegex("^[A-Za-z]{1,40}$")]
    private static partial Regex KeyName();

    [GeneratedRegex("^[a-z0-9]{3,24}$")]
    private static partial Regex AccountNamePattern();

    [GeneratedRegex("((?:AccountKey|SharedAccessSignature|sig)=)[^;&\\s]*", RegexOptions.IgnoreCase)]
    private static partial Regex SecretPattern();
}
