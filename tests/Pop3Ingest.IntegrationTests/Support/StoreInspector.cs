using System.Security.Cryptography;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>What is in a folder store, by content hash.</summary>
internal static class StoreInspector
{
    public static List<string> MessageFiles(string root) =>
        Directory.Exists(root)
            ? [.. Directory.EnumerateFiles(root, "*.eml", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}.tmp{Path.DirectorySeparatorChar}", StringComparison.Ordinal))]
            : [];

    public static List<string> Hashes(string root) => [.. MessageFiles(root).Select(f => Hash(File.ReadAllBytes(f)))];

    public static string Hash(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));
}
