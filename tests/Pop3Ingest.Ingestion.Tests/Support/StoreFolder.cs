namespace Pop3Ingest.Ingestion.Tests.Support;

/// <summary>Checks on a folder store's staging folder.</summary>
internal static class StoreFolder
{
    /// <summary>
    /// Nothing half-written is left in <c>{root}/.tmp</c>: a live store keeps only the empty temp files it creates
    /// ahead for the next puts (removed when it is disposed); a failed put or group commit removes its own.
    /// </summary>
    public static void AssertNoPartialFiles(string root)
    {
        var staging = Path.Combine(root, ".tmp");
        if (!Directory.Exists(staging))
        {
            return;
        }

        Assert.All(Directory.EnumerateFiles(staging), f => Assert.True(new FileInfo(f).Length == 0, $"{f} holds {new FileInfo(f).Length} bytes"));
    }
}
