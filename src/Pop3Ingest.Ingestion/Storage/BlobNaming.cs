using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Pop3Ingest.Ingestion.Storage;

/// <summary>
/// Blob names (ARCHITECTURE.md §5): <c>{account}/{yyyy}/{MM}/{dd}/{id}.eml</c>, with the account in lower case, the
/// date the row's first-seen day (UTC), and the id the first 32 hex digits of SHA-256 over the UIDL's raw bytes.
/// Nothing the server sends reaches a path except through that hash.
/// </summary>
public static class BlobNaming
{
    /// <summary>The id of a UIDL: 32 lower-case hex digits.</summary>
    public static string IdOf(string uidl)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.Latin1.GetBytes(uidl), hash);
        return Convert.ToHexStringLower(hash[..16]);
    }

    /// <summary>The blob name of a message.</summary>
    public static string BlobNameOf(string account, string uidl, DateTimeOffset firstSeen)
    {
        var day = firstSeen.UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture,
            $"{account.ToLowerInvariant()}/{day:yyyy}/{day:MM}/{day:dd}/{IdOf(uidl)}.eml");
    }

    /// <summary>The sidecar beside a blob: the same name with <c>.json</c>.</summary>
    public static string SidecarOf(string blobName) =>
        blobName.EndsWith(".eml", StringComparison.Ordinal) ? blobName[..^4] + ".json" : blobName + ".json";

    /// <summary>The event id (CloudEvents <c>id</c>): stable per account and UIDL.</summary>
    public static string EventIdOf(string account, string uidl) => $"{account.ToLowerInvariant()}:{IdOf(uidl)}";
}
