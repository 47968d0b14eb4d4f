using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Pop3Ingest.Mime;

/// <summary>
/// A parsed Content-Type or Content-Disposition value (RFC 2045 §5.1, RFC 2183): the lower-case main value
/// (<c>type/subtype</c> or the disposition type) and its parameters, with RFC 2231 continuations and charsets
/// assembled and RFC 2047 encoded words in plain values decoded.
/// </summary>
internal sealed class ContentHeaderValue
{
    private const int MaxSections = 1000;

    private static readonly char[] s_nameEnd = ['=', ';'];

    private ContentHeaderValue(string value, Dictionary<string, string> parameters)
    {
        Value = value;
        Parameters = parameters;
    }

    /// <summary>The main value in lower case, whitespace removed.</summary>
    public string Value { get; }

    /// <summary>Parameters by lower-case name.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; }

    public string? GetParameter(string name) =>
        Parameters.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    /// <summary>Parses a header value leniently: unquoted values run to the next ';', junk is skipped. Never throws.</summary>
    public static ContentHeaderValue Parse(string text, Encoding fallback)
    {
        var semicolon = text.IndexOf(';', StringComparison.Ordinal);
        var main = semicolon < 0 ? text : text[..semicolon];
        var value = RemoveWhitespace(Rfc5322Tokenizer.RemoveComments(main)).ToLowerInvariant();

        var plain = new Dictionary<string, string>(StringComparer.Ordinal);
        Dictionary<string, List<Section>>? extended = null;
        var i = semicolon < 0 ? text.Length : semicolon + 1;
        var scratch = new StringBuilder();
        while (i < text.Length)
        {
            var nameEnd = text.IndexOfAny(s_nameEnd, i);
            if (nameEnd < 0)
            {
                break;
            }

            var name = RemoveWhitespace(Rfc5322Tokenizer.RemoveComments(text[i..nameEnd])).ToLowerInvariant();
            if (text[nameEnd] == ';')
            {
                i = nameEnd + 1;
                continue;
            }

            i = nameEnd + 1;
            while (i < text.Length && text[i] is ' ' or '\t' or '\r' or '\n')
            {
                i++;
            }

            string raw;
            if (i < text.Length && text[i] == '"')
            {
                scratch.Clear();
                i++;
                while (i < text.Length && text[i] != '"')
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                    }

                    scratch.Append(text[i]);
                    i++;
                }

                raw = scratch.ToString();
                var next = text.IndexOf(';', Math.Min(i, text.Length));
                i = next < 0 ? text.Length : next + 1;
            }
            else
            {
                var next = text.IndexOf(';', i);
                var end = next < 0 ? text.Length : next;
                raw = text[i..end].Trim();
                i = end + 1;
            }

            if (name.Length == 0)
            {
                continue;
            }

            var star = name.IndexOf('*', StringComparison.Ordinal);
            if (star < 0)
            {
                plain.TryAdd(name, raw);
                continue;
            }

            // RFC 2231 §3/§4: name*=, name*N=, name*N*=
            var baseName = name[..star];
            var suffix = name.AsSpan(star + 1);
            var isExtended = suffix.EndsWith("*");
            if (isExtended)
            {
                suffix = suffix[..^1];
            }

            int index;
            if (suffix.IsEmpty)
            {
                index = 0;
                isExtended = true;
            }
            else if (!int.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out index)
                || index >= MaxSections)
            {
                continue;
            }

            extended ??= new Dictionary<string, List<Section>>(StringComparer.Ordinal);
            if (!extended.TryGetValue(baseName, out var sections))
            {
                sections = [];
                extended.Add(baseName, sections);
            }

            if (!sections.Exists(s => s.Index == index))
            {
                sections.Add(new Section(index, isExtended, raw));
            }
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, raw) in plain)
        {
            parameters[name] = raw.Contains("=?", StringComparison.Ordinal) ? EncodedWordDecoder.Decode(raw, fallback) : raw;
        }

        if (extended is not null)
        {
            foreach (var (name, sections) in extended)
            {
                // RFC 2231 values win over plain ones given for old readers.
                parameters[name] = Assemble(sections, fallback);
            }
        }

        return new ContentHeaderValue(value, parameters);
    }

    /// <summary>RFC 2231 §4: the first section may carry <c>charset'language'</c>; extended sections are %-encoded.</summary>
    private static string Assemble(List<Section> sections, Encoding fallback)
    {
        sections.Sort((a, b) => a.Index.CompareTo(b.Index));
        Encoding? charset = null;
        var bytes = new List<byte>();
        for (var n = 0; n < sections.Count; n++)
        {
            var section = sections[n];
            var text = section.Text.AsSpan();
            if (n == 0 && section.Extended)
            {
                var q1 = text.IndexOf('\'');
                var q2 = q1 < 0 ? -1 : text[(q1 + 1)..].IndexOf('\'');
                if (q2 >= 0)
                {
                    charset = Charsets.TryGet(text[..q1]);
                    text = text[(q1 + 1 + q2 + 1)..];
                }
            }

            if (section.Extended)
            {
                for (var i = 0; i < text.Length; i++)
                {
                    if (text[i] == '%' && i + 2 < text.Length && EncodedWordDecoder.HexValue(text[i + 1]) >= 0 && EncodedWordDecoder.HexValue(text[i + 2]) >= 0)
                    {
                        bytes.Add((byte)((EncodedWordDecoder.HexValue(text[i + 1]) << 4) | EncodedWordDecoder.HexValue(text[i + 2])));
                        i += 2;
                    }
                    else
                    {
                        AddChar(bytes, text[i]);
                    }
                }
            }
            else
            {
                foreach (var c in text)
                {
                    AddChar(bytes, c);
                }
            }
        }

        var result = Charsets.Decode(CollectionsMarshal.AsSpan(bytes), charset, fallback);
        return result.Contains("=?", StringComparison.Ordinal) ? EncodedWordDecoder.Decode(result, fallback) : result;
    }

    private static void AddChar(List<byte> bytes, char c)
    {
        if (c < 0x80)
        {
            bytes.Add((byte)c);
            return;
        }

        Span<byte> utf8 = stackalloc byte[4];
        var count = Encoding.UTF8.GetBytes([c], utf8);
        for (var k = 0; k < count; k++)
        {
            bytes.Add(utf8[k]);
        }
    }

    private static string RemoveWhitespace(string text)
    {
        var trimmed = text.Trim();
        if (!trimmed.AsSpan().ContainsAny(" \t\r\n"))
        {
            return trimmed;
        }

        var builder = new StringBuilder(trimmed.Length);
        foreach (var c in trimmed)
        {
            if (c is not (' ' or '\t' or '\r' or '\n'))
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private readonly record struct Section(int Index, bool Extended, string Text);
}
