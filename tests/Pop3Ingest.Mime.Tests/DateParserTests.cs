using System.Globalization;

namespace Pop3Ingest.Mime.Tests;

public sealed class DateParserTests
{
    [Theory]
    [InlineData("Fri, 21 Nov 1997 09:55:06 -0600", "1997-11-21T15:55:06Z")]
    [InlineData("Tue, 1 Jul 2003 10:52:37 +0200", "2003-07-01T08:52:37Z")]
    [InlineData("Thu, 13 Feb 1969 23:32:54 -0330", "1969-02-14T03:02:54Z")]
    [InlineData("21 Nov 97 09:55:06 GMT", "1997-11-21T09:55:06Z")]
    [InlineData("21 Nov 05 09:55 GMT", "2005-11-21T09:55:00Z")]
    [InlineData("21 Nov 105 09:55 GMT", "2005-11-21T09:55:00Z")] // three-digit year: +1900
    [InlineData("Fri,21 Nov 1997 09:55:06 -0600", "1997-11-21T15:55:06Z")]
    [InlineData("Friday, 21 November 1997 09:55:06 -0600", "1997-11-21T15:55:06Z")]
    [InlineData("Fri 21 Nov 1997 09:55:06 -0600", "1997-11-21T15:55:06Z")]
    [InlineData("fri, 21 nov 1997 09:55:06 -0600", "1997-11-21T15:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 EST", "1997-11-21T14:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 EDT", "1997-11-21T13:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 CST", "1997-11-21T15:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 PDT", "1997-11-21T16:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 UT", "1997-11-21T09:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 Z", "1997-11-21T09:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 A", "1997-11-21T09:55:06Z")] // military letters mean -0000
    [InlineData("Fri, 21 Nov 1997 09:55:06 XYZT", "1997-11-21T09:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06", "1997-11-21T09:55:06Z")] // no zone
    [InlineData("Fri, 21 Nov 1997 09:55:06 +0000 (UTC)", "1997-11-21T09:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 +02:00", "1997-11-21T07:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06.123 +0100", "1997-11-21T08:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06-0600", "1997-11-21T15:55:06Z")]
    [InlineData("Mon Jan  2 15:04:05 2006", "2006-01-02T15:04:05Z")] // asctime
    [InlineData("Mon, 2 Jan 2006 15:04:05 CEST", "2006-01-02T13:04:05Z")]
    [InlineData("Sat, 31 Dec 2016 23:59:60 +0000", "2016-12-31T23:59:59Z")] // leap second
    [InlineData("1 Jan 0001 00:30:00 +0100", null)] // before the first representable instant
    [InlineData("Fri, 30 Feb 1997 09:55:06 -0600", null)]
    [InlineData("Fri, 21 Foo 1997 09:55:06 -0600", null)]
    [InlineData("Fri, 21 Nov 1997 25:55:06 -0600", null)]
    [InlineData("Fri, 21 Nov 1997", null)]
    [InlineData("", null)]
    [InlineData("garbage", null)]
    [InlineData("1997-11-21T09:55:06Z", null)]
    public void Parses(string text, string? expected)
    {
        var ok = DateParser.TryParse(text, out var utc);

        Assert.Equal(expected is not null, ok);
        if (expected is not null)
        {
            Assert.Equal(DateTimeOffset.Parse(expected, CultureInfo.InvariantCulture), utc);
            Assert.Equal(TimeSpan.Zero, utc.Offset);
        }
    }
}
