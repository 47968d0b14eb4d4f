using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Pop3Ingest.Ingestion.Storage;

/// <summary>
/// Blob names (README.md, "What lands in the store"): <c>{account}/{yyyy}/{MM}/{dd}/{id}.eml</c>, with the account in lower case, the
/// date the row's first-seen day (UTC), and the id the first 32 hex digits of SHA-256 over the UIDL's raw bytes.
/// Nothing the server sends reaches a path except through that hash.
/// </summary>
/// <remarks>
/// A UIDL names a message only while the message is on the server (RFC 1939 §7 forbids reuse only then): a UIDL listed
/// again with other content after its message was deleted is a new message, a generation of its own. Generation 0
/// hashes the UIDL alone, so every name given before generations existed stays as it was; generation n ≥ 1 hashes
/// the UIDL's bytes, a line feed (which no UIDL can hold: listings are split on it) and n in decimal.
/// </remarks>
public static class BlobNaming
{
    /// <summary>The id of a UIDL's message: 32 lower-case hex digits.</summary>
    public static string IdOf(string uidl, int generation = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(generation);
        var key = generation == 0 ? uidl : string.Create(CultureInfo.InvariantCulture, $"{uidl}\n{generation}");
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.Latin1.GetBytes(key), hash);
        return Convert.ToHexStringLower(hash[..16]);
    }

    /// <summary>The blob name of a message.</summary>
    public static string BlobNameOf(string account, string uidl, DateTimeOffset firstSeen, int generation = 0)
    {
        var day = firstSeen.UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture,
            $"{account.ToLowerInvariant()}/{day:yyyy}/{day:MM}/{day:dd}/{IdOf(uidl, generation)}.eml");
    }

    /// <summary>The id part of a blob name (its file name without <c>.eml</c>), or null when it is not one of ours.</summary>
    public static string? IdOfBlobName(string blobName)
    {
        var slash = blobName.LastIndexOf('/');
        var file = blobName[(slash + 1)..];
        return file.Length == 36 && file.EndsWith(".eml", StringComparison.Ordinal) && file.AsSpan(0, 32).ContainsAnyExcept("0123456789abcdef") is false
            ? file[..32]
            : null;
    }

    /// <summary>The sidecar beside a blob: the same name with <c>.json</c>.</summary>
    public static string SidecarOf(string blobName) =>
        blobName.EndsWith(".eml", StringComparison.Ordinal) ? blobName[..^4] + ".json" : blobName + ".json";

    /// <summary>
    /// The event id (CloudEvents <c>id</c>): stable per message, that is per account, UIDL and generation (unique among
    /// the messages the ledger remembers).
    /// </summary>
    public static string EventIdOf(string account, string uidl, int generation = 0) =>
        $"{account.ToLowerInvariant()}:{IdOf(uidl, generation)}";
}
