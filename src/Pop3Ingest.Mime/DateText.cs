using System.Globalization;
using System.Text;
using MimeKit.Utils;

namespace Pop3Ingest.Mime;

/// <summary>
/// A Date value (RFC 5322 §3.3, obsolete forms §4.3) to UTC through MimeKit's <see cref="DateUtils"/>, guarded: a wrong
/// instant is worse than none. The text is rewritten first into the form MimeKit reads right, and MimeKit's answer is
/// then checked against the time, zone and year as written; any disagreement, or a field out of range, gives no instant.
/// </summary>
/// <remarks>
/// What MimeKit alone gets wrong, and the rewrite: fractional seconds (<c>09:55:06.123</c> loses the time: dropped);
/// a zone glued to the time (<c>09:55:06-0600</c> reads as +0600: split off); <c>+hh:mm</c> (ignored: made
/// <c>+hhmm</c>); zone names it does not know (<c>CEST</c> counts as UTC: the names below become numeric) and the
/// military letters, which it reads with RFC 822's offsets (RFC 5322 §4.3: treat them, and unknown names, as
/// <c>-0000</c>). What the check refuses: no time of day (MimeKit takes midnight), an hour, minute or second out of
/// range (MimeKit keeps the date at midnight), a year MimeKit reads differently (<c>0001</c> as 2001; two-digit
/// <c>50</c>–<c>69</c> as 20xx where RFC 5322 §4.3 says 19xx). A leap second 60 is read as 59.
/// </remarks>
internal static class DateText
{
    /// <summary>The instant in UTC, or <see langword="null"/> when the text does not say it for certain.</summary>
    public static DateTimeOffset? ToUtc(string text)
    {
        if (!TryNormalise(text, out var normalised, out var expected)
            || !DateUtils.TryParse(normalised, out var date)
            || date.Hour != expected.Hour || date.Minute != expected.Minute || date.Second != expected.Second
            || date.Offset != expected.Offset
            || (expected.Year is { } year && date.Year != year))
        {
            return null;
        }

        return date.ToUniversalTime();
    }

    private readonly record struct Expected(int Hour, int Minute, int Second, TimeSpan Offset, int? Year);

    private static bool TryNormalise(string text, out string normalised, out Expected expected)
    {
        normalised = string.Empty;
        expected = default;
        var tokens = new StringBuilder(text.Length);
        int? hour = null, minute = null, second = null, year = null, zone = null;
        var sawDay = false;
        var cleaned = WithoutComments(text);
        foreach (var range in cleaned.AsSpan().SplitAny(" \t\r\n,"))
        {
            var token = cleaned.AsSpan(range);
            if (token.Length == 0)
            {
                continue;
            }

            if (hour is null && token.Contains(':') && char.IsAsciiDigit(token[0]))
            {
                // RFC 5322 §3.3 time-of-day, with a fraction or a zone glued on by some senders: "09:55:06.123-0600".
                var sign = token.IndexOfAny('+', '-');
                var time = sign > 0 ? token[..sign] : token;
                var dot = time.IndexOf('.');
                if (!TryTime(dot >= 0 ? time[..dot] : time, out var h, out var m, out var s))
                {
                    return false;
                }

                (hour, minute, second) = (h, m, s);
                tokens.Append(CultureInfo.InvariantCulture, $"{h:D2}:{m:D2}:{s:D2} ");
                if (sign > 0)
                {
                    if (!TryNumericZone(token[sign..], out var glued))
                    {
                        return false;
                    }

                    zone = glued;
                    tokens.Append(ZoneText(glued)).Append(' ');
                }

                continue;
            }

            if (hour is not null && zone is null && token[0] is '+' or '-')
            {
                if (!TryNumericZone(token, out var offset))
                {
                    return false;
                }

                zone = offset;
                tokens.Append(ZoneText(offset)).Append(' ');
                continue;
            }

            if (hour is not null && zone is null && IsAsciiLetters(token))
            {
                // RFC 5322 §4.3: military letters and names nobody agrees on are "-0000": UTC, local offset unknown.
                zone = ZoneName(token) ?? 0;
                tokens.Append(ZoneText(zone.Value)).Append(' ');
                continue;
            }

            if (char.IsAsciiDigit(token[0]) && int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                if (!sawDay && year is null && token.Length <= 2)
                {
                    sawDay = true;
                }
                else if (year is null && token.Length is 2 or 4)
                {
                    // RFC 5322 §4.3: two-digit years 00-49 are 20xx, 50-99 are 19xx.
                    year = token.Length == 4 ? number : number + (number < 50 ? 2000 : 1900);
                }
            }

            tokens.Append(token).Append(' ');
        }

        if (hour is null)
        {
            // A date without a time of day is not an instant.
            return false;
        }

        normalised = tokens.ToString();
        expected = new Expected(hour.Value, minute!.Value, second!.Value, TimeSpan.FromMinutes(zone ?? 0), year);
        return true;
    }

    /// <summary>The text with RFC 5322 §3.2.2 comments (nested, with quoted pairs) replaced by spaces.</summary>
    private static string WithoutComments(string text)
    {
        if (!text.Contains('('))
        {
            return text;
        }

        var chars = text.ToCharArray();
        var depth = 0;
        for (var i = 0; i < chars.Length; i++)
        {
            var c = chars[i];
            if (depth > 0 && c == '\\' && i + 1 < chars.Length)
            {
                chars[i] = chars[++i] = ' ';
                continue;
            }

            depth += c == '(' ? 1 : c == ')' && depth > 0 ? -1 : 0;
            if (depth > 0 || c == ')')
            {
                chars[i] = ' ';
            }
        }

        return new string(chars);
    }

    private static bool TryTime(ReadOnlySpan<char> token, out int hour, out int minute, out int second)
    {
        hour = minute = second = 0;
        Span<Range> parts = stackalloc Range[4];
        var count = token.Split(parts, ':');
        if (count is < 2 or > 3
            || !TryTwoDigits(token[parts[0]], out hour) || !TryTwoDigits(token[parts[1]], out minute)
            || (count == 3 && !TryTwoDigits(token[parts[2]], out second))
            || hour > 23 || minute > 59 || second > 60)
        {
            return false;
        }

        second = Math.Min(second, 59);
        return true;
    }

    private static bool TryTwoDigits(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        return text.Length is 1 or 2 && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>RFC 5322 §3.3 zone, <c>("+" / "-") 4DIGIT</c>, also written <c>+hh:mm</c> or <c>+hh</c>; in minutes.</summary>
    private static bool TryNumericZone(ReadOnlySpan<char> token, out int minutes)
    {
        minutes = 0;
        var digits = token[1..];
        int hours, mins = 0;
        if (digits.Length == 4 && TryTwoDigits(digits[..2], out hours) && TryTwoDigits(digits[2..], out mins))
        {
        }
        else if (digits.Length == 5 && digits[2] == ':' && TryTwoDigits(digits[..2], out hours) && TryTwoDigits(digits[3..], out mins))
        {
        }
        else if (!(digits.Length is 1 or 2 && TryTwoDigits(digits, out hours)))
        {
            return false;
        }

        if (hours > 14 || mins > 59)
        {
            return false;
        }

        minutes = ((hours * 60) + mins) * (token[0] == '-' ? -1 : 1);
        return true;
    }

    private static string ZoneText(int minutes) =>
        string.Create(CultureInfo.InvariantCulture, $"{(minutes < 0 ? '-' : '+')}{Math.Abs(minutes) / 60:D2}{Math.Abs(minutes) % 60:D2}");

    /// <summary>RFC 5322 §4.3 obs-zone names, and the abbreviations the hand-written parser knew that have one meaning.</summary>
    private static int? ZoneName(ReadOnlySpan<char> name)
    {
        Span<char> lower = stackalloc char[5];
        if (name.Length > lower.Length)
        {
            return null;
        }

        lower = lower[..name.ToLowerInvariant(lower)];
        int? hours = lower switch
        {
            "ut" or "utc" or "gmt" or "z" or "wet" => 0,
            "edt" => -4,
            "est" or "cdt" => -5,
            "cst" or "mdt" => -6,
            "mst" or "pdt" => -7,
            "pst" => -8,
            "bst" or "cet" or "met" or "west" => 1,
            "cest" or "mest" or "eet" => 2,
            "eest" or "msk" => 3,
            "jst" or "kst" => 9,
            _ => null,
        };
        return hours * 60;
    }

    private static bool IsAsciiLetters(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiLetter(c))
            {
                return false;
            }
        }

        return true;
    }
}
