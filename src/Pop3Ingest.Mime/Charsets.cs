using System.Text;
using System.Text.Unicode;

namespace Pop3Ingest.Mime;

/// <summary>
/// Makes the legacy code pages of System.Text.Encoding.CodePages available (MimeKit looks charsets up through
/// <see cref="Encoding.GetEncoding(string)"/>) and decodes unlabelled header bytes. Never throws.
/// </summary>
internal static class Charsets
{
    static Charsets()
    {
        // The legacy code pages (ISO-2022-JP, GB18030, KOI8-R, Windows-125x, ...) live in CodePagesEncodingProvider,
        // registered here with its answers cached (see CachedCodePagesProvider); registering it twice is harmless, so
        // every entry point that needs it goes through this type.
        Encoding.RegisterProvider(CachedCodePagesProvider.Instance);
        Windows1252 = Encoding.GetEncoding(1252);
    }

    /// <summary>windows-1252: the default fallback for 8-bit header bytes that are not UTF-8.</summary>
    public static Encoding Windows1252 { get; }

    /// <summary>Makes sure the code-page provider is registered.</summary>
    public static void EnsureRegistered()
    {
        // Touching a static member runs the static constructor once.
        _ = Windows1252;
    }

    /// <summary>
    /// Decodes bytes whose charset is unknown: UTF-8 when they are valid UTF-8 (RFC 6532), else <paramref name="fallback"/>.
    /// </summary>
    public static string DecodeUnlabelled(ReadOnlySpan<byte> bytes, Encoding fallback)
    {
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }

        if (Ascii.IsValid(bytes) || Utf8.IsValid(bytes))
        {
            return Encoding.UTF8.GetString(bytes);
        }

        return fallback.GetString(bytes);
    }
}
