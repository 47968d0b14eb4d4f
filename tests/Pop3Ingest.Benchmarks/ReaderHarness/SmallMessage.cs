using System.Text;

namespace Pop3Ingest.Benchmarks.ReaderHarness;

/// <summary>A typical 10 KB notification mail: encoded words, several addresses, text + HTML, one small PDF.</summary>
internal static class SmallMessage
{
    public static (byte[] Message, string Subject) Build()
    {
        var random = new Random(10);
        var builder = new StringBuilder();
        builder.Append("Received: from mx1.example.org (mx1.example.org [192.0.2.1]) by mail.example.net with ESMTPS id 4Xyz; Mon, 23 Nov 2026 08:00:01 +0000\r\n");
        builder.Append("From: =?UTF-8?B?U8O2cmVuIEjDpG5zZWw=?= <soeren@example.org>\r\n");
        builder.Append("To: \"Support\" <support@example.net>, =?ISO-8859-1?Q?Ren=E9_Dupont?= <rene@example.net>,\r\n =?UTF-8?Q?Zo=C3=AB?= <zoe@example.net>, plain@example.net\r\n");
        builder.Append("Cc: Team (internal) <team@example.net>, \"Doe, Jane\" <jane.doe@example.net>\r\n");
        builder.Append("Reply-To: no-reply@example.org\r\n");
        builder.Append("Subject: =?UTF-8?Q?Re:_Bestellung_Nr._4711_=E2=80=93_Lieferung?= =?UTF-8?B?IHZlcnrDtmdlcnQ=?=\r\n");
        builder.Append("Date: Mon, 23 Nov 2026 09:00:00 +0100 (CET)\r\n");
        builder.Append("Message-ID: <20261123080000.4711@example.org>\r\n");
        builder.Append("In-Reply-To: <20261122170000.4710@example.net>\r\n");
        builder.Append("References: <20261120100000.1@example.net>\r\n <20261122170000.4710@example.net>\r\n");
        builder.Append("MIME-Version: 1.0\r\n");
        builder.Append("Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n");
        builder.Append("--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n");
        builder.Append("--b2\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
        for (var i = 0; i < 30; i++)
        {
            builder.Append("Sehr geehrte Damen und Herren, die Lieferung verz=C3=B6gert sich um ").Append(i).Append(" Tage.\r\n");
        }

        builder.Append("--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>\r\n");
        for (var i = 0; i < 30; i++)
        {
            builder.Append("<p>Die Lieferung verz&ouml;gert sich um ").Append(i).Append(" Tage.</p>\r\n");
        }

        builder.Append("</body></html>\r\n--b2--\r\n");
        var pdf = new byte[2400];
        random.NextBytes(pdf);
        builder.Append("--b1\r\nContent-Type: application/pdf; name=\"=?UTF-8?Q?Rechnung_M=C3=A4rz.pdf?=\"\r\nContent-Disposition: attachment;\r\n filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n");
        builder.Append(Convert.ToBase64String(pdf, Base64FormattingOptions.InsertLineBreaks)).Append("\r\n--b1--\r\n");
        return (Encoding.ASCII.GetBytes(builder.ToString()), "Re: Bestellung Nr. 4711 – Lieferung verzögert");
    }
}
