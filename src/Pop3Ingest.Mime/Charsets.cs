using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace Pop3Ingest.Mime;

/// <summary>
/// Maps MIME charset labels to <see cref="Encoding"/> instances, including the legacy code pages of
/// System.Text.Encoding.CodePages, and decodes header bytes leniently. Never throws.
/// </summary>
internal static class Charsets
{
    private const int MaxLabelLength = 64;

    static Charsets()
    {
        // The legacy code pages (ISO-2022-JP, GB18030, KOI8-R, Windows-125x, ...) live in this provider;
        // registering it twice is harmless, so every entry point that needs it goes through this type.
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
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
    /// Looks a charset label up: IANA names and aliases, RFC 2231 language suffixes ("utf-8*en"),
    /// and a few labels seen in the wild ("utf8", "x-gbk", "cp-850").
    /// Labels that only mean "unknown" (e.g. "unknown-8bit") resolve to nothing.
    /// </summary>
    public static Encoding? TryGet(ReadOnlySpan<char> label)
    {
        EnsureRegistered();
        var star = label.IndexOf('*');
        if (star >= 0)
        {
            label = label[..star];
        }

        label = label.Trim().Trim('"').Trim();
        if (label.IsEmpty || label.Length > MaxLabelLength)
        {
            return null;
        }

        var name = label.ToString().ToLowerInvariant();
        switch (name)
        {
            case "utf8":
                return Encoding.UTF8;
            case "x-gbk":
                name = "gbk";
                break;
            case "x-mac-roman":
                name = "macintosh";
                break;
            case "unknown":
            case "unknown-8bit":
            case "x-unknown":
            case "8bit":
            case "default":
                return null;
        }

        try
        {
            return Encoding.GetEncoding(name);
        }
        catch (ArgumentException)
        {
        }
        catch (NotSupportedException)
        {
            // UTF-7 is refused by .NET on purpose; treat it as unknown.
            return null;
        }

        // "cp850", "cp-850", "ibm-850", "windows-1252" spelled oddly: try the number.
        var digits = name.AsSpan().TrimStart("abcdefghijklmnopqrstuvwxyz-_".AsSpan());
        if (!digits.IsEmpty && digits.Length <= 5
            && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var codePage))
        {
            try
            {
                return Encoding.GetEncoding(codePage);
            }
            catch (ArgumentException)
            {
            }
            catch (NotSupportedException)
            {
            }
        }

        return null;
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

    /// <summary>
    /// Decodes bytes in a labelled charset. A label that only claims ASCII while the bytes are 8-bit is
    /// treated as unlabelled (mislabelled Latin-1 and UTF-8 are common).
    /// </summary>
    public static string Decode(ReadOnlySpan<byte> bytes, Encoding? encoding, Encoding fallback)
    {
        if (encoding is null || (encoding.CodePage == 20127 && !Ascii.IsValid(bytes)))
        {
            return DecodeUnlabelled(bytes, fallback);
        }

        return encoding.GetString(bytes);
    }
}
