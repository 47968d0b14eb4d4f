using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Storage;

namespace Pop3Ingest.Worker.Cli;

/// <summary>
/// <c>ledger rebuild</c>: recovers an account's rows from the store after the ledger was lost, without downloading.
/// A blob's name carries the hash of its UIDL (and generation), so each UIDL the server lists is looked up among the
/// store's blobs; a match becomes a Stored row with the blob's own name, size and SHA-256 (from the store's metadata,
/// else the sidecar, else read from the blob). The row's LIST size stays unknown, so the next run compares the
/// message's content with the stored hash before its first DELE: the ledger cannot know whether the message now under
/// that UIDL is the one stored.
/// </summary>
internal static class LedgerRebuild
{
    /// <summary>A sidecar is the event's data; one larger than this is not read (the blob is hashed instead).</summary>
    private const int MaxSidecarBytes = 1024 * 1024;

    public static async Task<RebuildResult> RunAsync(ILedger ledger, IMessageStore store, string account, IReadOnlyList<string> uidls, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        account = account.ToLowerInvariant();
        var known = (await ledger.GetAccountAsync(account, cancellationToken).ConfigureAwait(false)).Select(r => r.Uidl).ToHashSet(StringComparer.Ordinal);
        var blobs = new Dictionary<string, (StoredBlob Blob, DateTimeOffset Day)>(StringComparer.Ordinal);
        await foreach (var blob in store.ListAsync(account, cancellationToken).ConfigureAwait(false))
        {
            // The same id under two days (a message stored again after an earlier loss): the first stored is the original.
            if (DayOf(account, blob.BlobName) is { } day && BlobNaming.IdOfBlobName(blob.BlobName) is { } id &&
                (!blobs.TryGetValue(id, out var other) || day < other.Day))
            {
                blobs[id] = (blob, day);
            }
        }

        var counts = uidls.CountBy(u => u, StringComparer.Ordinal).ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);
        var rows = new List<LedgerRow>();
        var missing = new List<string>();
        var alreadyKnown = 0;
        foreach (var (uidl, count) in counts)
        {
            if (count > 1 || known.Contains(uidl))
            {
                alreadyKnown += count > 1 ? 0 : 1;
                continue;
            }

            var generation = -1;
            while (blobs.ContainsKey(BlobNaming.IdOf(uidl, generation + 1)))
            {
                generation++;
            }

            if (generation < 0)
            {
                missing.Add(uidl);
                continue;
            }

            var (blob, firstSeen) = blobs[BlobNaming.IdOf(uidl, generation)];
            var (size, sha256) = await DescribeAsync(store, blob, cancellationToken).ConfigureAwait(false);
            rows.Add(new LedgerRow
            {
                Account = account, Uidl = uidl, Generation = generation, BlobName = blob.BlobName, State = LedgerState.Stored,
                FirstSeen = firstSeen, StoredAt = blob.LastModified, Size = size, Sha256 = sha256, ListSize = null, UpdatedAt = now,
            });
        }

        for (var i = 0; i < rows.Count; i += 1000)
        {
            await ledger.InsertAsync(rows.GetRange(i, Math.Min(1000, rows.Count - i)), cancellationToken).ConfigureAwait(false);
        }

        return new RebuildResult(rows.Count, missing, alreadyKnown, counts.Count(c => c.Value > 1));
    }

    /// <summary>The first-seen day a blob name carries: <c>{account}/{yyyy}/{MM}/{dd}/{id}.eml</c>, or null for another shape.</summary>
    private static DateTimeOffset? DayOf(string account, string blobName)
    {
        var parts = blobName.Split('/');
        return parts.Length == 5 && parts[0] == account &&
               DateTime.TryParseExact($"{parts[1]}/{parts[2]}/{parts[3]}", "yyyy/MM/dd", CultureInfo.InvariantCulture,
                   DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var day)
            ? new DateTimeOffset(day, TimeSpan.Zero)
            : null;
    }

    /// <summary>Size and SHA-256: from the store's listing, else from the sidecar, else by reading the blob.</summary>
    private static async Task<(long Size, string Sha256)> DescribeAsync(IMessageStore store, StoredBlob blob, CancellationToken cancellationToken)
    {
        if (blob.Sha256 is { } listed)
        {
            return (blob.Size, listed);
        }

        if (await FromSidecarAsync(store, blob, cancellationToken).ConfigureAwait(false) is { } fromSidecar)
        {
            return (blob.Size, fromSidecar);
        }

        await using var content = await store.OpenReadAsync(blob.BlobName, cancellationToken).ConfigureAwait(false)
            ?? throw new StoreException($"{blob.BlobName} was listed but cannot be read: it was removed meanwhile.");
        // Blobs are never rewritten: the listed size is the size of what is read.
        return (blob.Size, Convert.ToHexStringLower(await SHA256.HashDataAsync(content, cancellationToken).ConfigureAwait(false)));
    }

    /// <summary>The sidecar's <c>sha256</c> when the sidecar exists, parses, and gives the blob's size; else null.</summary>
    private static async Task<string?> FromSidecarAsync(IMessageStore store, StoredBlob blob, CancellationToken cancellationToken)
    {
        await using var sidecar = await store.OpenReadAsync(BlobNaming.SidecarOf(blob.BlobName), cancellationToken).ConfigureAwait(false);
        if (sidecar is null)
        {
            return null;
        }

        var json = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await sidecar.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (json.Length + read > MaxSidecarBytes)
            {
                return null;
            }

            json.Write(buffer, 0, read);
        }

        try
        {
            using var document = JsonDocument.Parse(json.GetBuffer().AsMemory(0, (int)json.Length));
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object &&
                   root.TryGetProperty("size", out var size) && size.TryGetInt64(out var bytes) && bytes == blob.Size &&
                   root.TryGetProperty("sha256", out var sha256) && sha256.GetString() is { Length: 64 } hex && hex.All(char.IsAsciiHexDigitLower)
                ? hex
                : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null; // not a sidecar of ours: the blob itself says
        }
    }
}

/// <summary>What <c>ledger rebuild</c> did for one account.</summary>
/// <param name="Rebuilt">Rows written (Stored).</param>
/// <param name="Missing">Listed UIDLs with no blob in the store: the next run downloads them.</param>
/// <param name="AlreadyKnown">Listed UIDLs that already had a row, left alone.</param>
/// <param name="Duplicates">UIDLs listed more than once, skipped (as a run skips them).</param>
internal sealed record RebuildResult(int Rebuilt, IReadOnlyList<string> Missing, int AlreadyKnown, int Duplicates);
