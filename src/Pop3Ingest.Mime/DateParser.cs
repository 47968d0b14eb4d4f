using System.Globalization;

namespace Pop3Ingest.Mime;

/// <summary>
/// Parses RFC 5322 §3.3 date-times, including the obsolete forms of §4.3, into UTC.
/// </summary>
/// <remarks>
/// Accepted: an optional day of week (with or without the comma, abbreviated or full), one- or two-digit days,
/// English month names, two-digit years (00–49 mean 20xx, 50–99 mean 19xx) and three-digit years (+1900),
/// times with or without seconds, numeric zones (<c>+hhmm</c>, <c>+hh:mm</c>), the obsolete zone names UT, GMT,
/// EST/EDT, CST/CDT, MST/MDT, PST/PDT, a few common European and Asian abbreviations, and comments. Military
/// zone letters and unknown zone names count as UTC (RFC 5322 §4.3: equivalent to "-0000"), as does a missing zone.
/// The asctime order (<c>Mon Jan  2 15:04:05 2006</c>) is accepted too. Never throws.
/// </remarks>
public static class DateParser
{
    private static readonly string[] s_months =
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

    private static readonly string[] s_monthNames =
        ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

    /// <summary>Tries to parse a Date header value.</summary>
    /// <param name="text">The unfolded header value, for example <c>Fri, 21 Nov 1997 09:55:06 -0600</c>.</param>
    /// <param name="utc">The instant with offset zero, when parsed.</param>
    /// <returns>Whether the value was understood.</returns>
    public static bool TryParse(string? text, out DateTimeOffset utc)
    {
        utc = default;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 1000)
        {
            return false;
        }

        var cleaned = Rfc5322Tokenizer.RemoveComments(text);
        int? day = null, month = null, year = null, hour = null, minute = null, second = null, zoneMinutes = null;
        var yearDigits = 0;
        foreach (var range in cleaned.AsSpan().SplitAny(" \t\r\n,"))
        {
            var token = cleaned.AsSpan(range);
            if (token.IsEmpty)
            {
                continue;
            }

            if (hour is null && token.Contains(':') && char.IsAsciiDigit(token[0]))
            {
                // A zone glued to the time: "09:55:06-0600".
                var sign = token.IndexOfAny('+', '-');
                var time = sign > 0 ? token[..sign] : token;
                if (!TryParseTime(time, out var h, out var m, out var s))
                {
                    return false;
                }

                (hour, minute, second) = (h, m, s);
                if (sign > 0 && TryParseNumericZone(token[sign..], out var glued))
                {
                    zoneMinutes = glued;
                }

                continue;
            }

            if (token[0] is '+' or '-')
            {
                if (zoneMinutes is null && TryParseNumericZone(token, out var offset))
                {
                    zoneMinutes = offset;
                }

                continue;
            }

            if (char.IsAsciiDigit(token[0]))
            {
                if (!int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || token.Length > 4)
                {
                    continue;
                }

                if (day is null && year is null && token.Length <= 2 && number is >= 1 and <= 31)
                {
                    day = number;
                }
                else if (year is null)
                {
                    year = number;
                    yearDigits = token.Length;
                }
                else if (day is null && token.Length <= 2 && number is >= 1 and <= 31)
                {
                    day = number;
                }
                else if (hour is not null && zoneMinutes is null && token.Length == 4)
                {
                    // A zone without its sign.
                    if (TryParseNumericZone(string.Concat("+", token), out var unsigned))
                    {
                        zoneMinutes = unsigned;
                    }
                }

                continue;
            }

            var lower = token.Length <= 16 ? token.ToString().ToLowerInvariant() : string.Empty;
            var monthIndex = MonthIndex(lower);
            if (month is null && monthIndex > 0)
            {
                month = monthIndex;
                continue;
            }

            if (hour is not null && zoneMinutes is null && TryParseZoneName(lower, out var named))
            {
                zoneMinutes = named;
            }

            // Day names and anything unknown are ignored.
        }

        if (day is null || month is null || year is null || hour is null || minute is null)
        {
            return false;
        }

        // RFC 5322 §4.3: two-digit years 00-49 are 2000-2049, 50-99 are 1950-1999; three digits add 1900.
        var fullYear = year.Value;
        if (yearDigits <= 2)
        {
            fullYear += fullYear < 50 ? 2000 : 1900;
        }
        else if (yearDigits == 3)
        {
            fullYear += 1900;
        }

        if (fullYear is < 1 or > 9999 || day > DateTime.DaysInMonth(fullYear, month.Value))
        {
            return false;
        }

        var seconds = Math.Min(second ?? 0, 59); // a leap second 60 becomes 59
        var zone = zoneMinutes ?? 0;
        var local = new DateTime(fullYear, month.Value, day.Value, hour.Value, minute.Value, seconds, DateTimeKind.Unspecified);
        var ticks = local.Ticks - (zone * TimeSpan.TicksPerMinute);
        if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
        {
            return false;
        }

        utc = new DateTimeOffset(ticks, TimeSpan.Zero);
        return true;
    }

    private static int MonthIndex(string lower)
    {
        if (lower.Length < 3)
        {
            return 0;
        }

        for (var i = 0; i < 12; i++)
        {
            if (lower == s_months[i] || lower == s_monthNames[i] || (lower.Length == 4 && lower == "sept" && i == 8))
            {
                return i + 1;
            }
        }

        return 0;
    }

    private static bool TryParseTime(ReadOnlySpan<char> token, out int hour, out int minute, out int second)
    {
        hour = minute = second = 0;
        var dot = token.IndexOf('.');
        if (dot >= 0)
        {
            token = token[..dot]; // fractional seconds
        }

        Span<Range> parts = stackalloc Range[4];
        var count = token.Split(parts, ':');
        if (count is < 2 or > 3)
        {
            return false;
        }

        if (!TryTwoDigits(token[parts[0]], out hour) || !TryTwoDigits(token[parts[1]], out minute)
            || (count == 3 && !TryTwoDigits(token[parts[2]], out second)))
        {
            return false;
        }

        return hour < 24 && minute < 60 && second <= 60;
    }

    private static bool TryTwoDigits(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        return text.Length is 1 or 2 && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>RFC 5322 §3.3 zone: ("+" / "-") 4DIGIT; also "+hh" and "+hh:mm".</summary>
    private static bool TryParseNumericZone(ReadOnlySpan<char> token, out int minutes)
    {
        minutes = 0;
        var negative = token[0] == '-';
        var digits = token[1..];
        int hours, mins;
        if (digits.Length == 4 && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var hhmm))
        {
            hours = hhmm / 100;
            mins = hhmm % 100;
        }
        else if (digits.Length == 5 && digits[2] == ':' && TryTwoDigits(digits[..2], out hours) && TryTwoDigits(digits[3..], out mins))
        {
        }
        else if (digits.Length is 1 or 2 && TryTwoDigits(digits, out hours))
        {
            mins = 0;
        }
        else
        {
            return false;
        }

        if (hours > 14 || mins > 59)
        {
            return false;
        }

        minutes = ((hours * 60) + mins) * (negative ? -1 : 1);
        return true;
    }

    /// <summary>RFC 5322 §4.3 obs-zone, plus a few abbreviations that are not ambiguous.</summary>
    private static bool TryParseZoneName(string lower, out int minutes)
    {
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

        if (hours is null)
        {
            // Military letters and other names: "-0000", i.e. no usable offset.
            minutes = 0;
            return lower.Length > 0 && lower.Length <= 5 && IsAsciiLetters(lower);
        }

        minutes = hours.Value * 60;
        return true;
    }

    private static bool IsAsciiLetters(string text)
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
