using System.Text;
using Pop3Ingest.Mime;

namespace Pop3Ingest.Benchmarks.ReaderHarness;

/// <summary>The ~130 MB multipart and the attachments the reader should report, in document order.</summary>
internal static class LargeMessage
{
    private const int Base64Bytes = 6_000_000;
    private const int QuotedPrintableBytes = 400_000;

    public static (byte[] Message, List<AttachmentInfo> Expected) Build()
    {
        var random = new Random(5);
        var expected = new List<AttachmentInfo>();
        using var output = new MemoryStream(140_000_000);
        void W(string text) => output.Write(Encoding.ASCII.GetBytes(text));

        W("Return-Path: <reports@example.org>\r\n");
        W("From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen.mueller@example.org>\r\n");
        W("To: \"Archive\" <archive@example.net>, Team: a@example.net, b@example.net;\r\n");
        W("Subject: =?UTF-8?B?UXVhcnRhbHNiZXJpY2h0IG1pdCBBbmjDpG5nZW4=?=\r\n");
        W("Date: Mon, 23 Nov 2026 08:00:00 +0100\r\n");
        W("Message-ID: <large-1@example.org>\r\n");
        W("MIME-Version: 1.0\r\n");
        W("Content-Type: multipart/mixed; boundary=\"=_outer_7f3a\"\r\n\r\n");
        W("This is a multi-part message in MIME format.\r\n");
        W("--=_outer_7f3a\r\nContent-Type: multipart/alternative; boundary=\"=_alt_19\"\r\n\r\n");
        W("--=_alt_19\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
        for (var i = 0; i < 200; i++)
        {
            W($"Zeile {i}: Gr=C3=BC=C3=9Fe aus dem Bericht, siehe Anh=C3=A4nge.\r\n");
        }

        W("--=_alt_19\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>");
        for (var i = 0; i < 200; i++)
        {
            W($"<p>Line {i} of the report.</p>\r\n");
        }

        W("</body></html>\r\n--=_alt_19--\r\n");
        for (var n = 1; n <= 20; n++)
        {
            if (n % 5 == 0)
            {
                var name = $"table-{n:D2}.csv";
                W($"--=_outer_7f3a\r\nContent-Type: text/csv; charset=iso-8859-1; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
                var decoded = QuotedPrintable(output, random, QuotedPrintableBytes);
                expected.Add(new AttachmentInfo(name, "text/csv", decoded));
                W("\r\n");
            }
            else
            {
                var name = $"scan-{n:D2}.pdf";
                W($"--=_outer_7f3a\r\nContent-Type: application/pdf; name=\"{name}\"\r\nContent-Disposition: attachment;\r\n filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
                var raw = new byte[Base64Bytes];
                random.NextBytes(raw);
                var text = Convert.ToBase64String(raw, Base64FormattingOptions.InsertLineBreaks);
                W(text);
                W("\r\n");
                expected.Add(new AttachmentInfo(name, "application/pdf", Base64Bytes));
            }
        }

        W("--=_outer_7f3a\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"forwarded.eml\"\r\n\r\n");
        var innerStart = output.Position;
        W("From: Inner <inner@example.com>\r\nTo: juergen.mueller@example.org\r\nSubject: =?ISO-8859-1?Q?Weitergeleitet_=E4?=\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <inner-1@example.com>\r\n\r\n");
        for (var i = 0; i < 100; i++)
        {
            W($"Inner body line {i}.\r\n");
        }

        var innerSize = output.Position - innerStart - 2; // the last CRLF belongs to the boundary
        expected.Add(new AttachmentInfo("forwarded.eml", "message/rfc822", innerSize));
        W("--=_outer_7f3a--\r\n");
        return (output.ToArray(), expected);
    }

    /// <summary>Writes quoted-printable text (CRLF lines, escapes, soft breaks) of a given decoded size, minus the final line break that the boundary owns; returns the decoded size.</summary>
    private static long QuotedPrintable(MemoryStream output, Random random, int decodedTarget)
    {
        long decoded = 0;
        var line = new StringBuilder();
        var row = 0;
        while (decoded < decodedTarget)
        {
            // One CSV row: ASCII words, some Latin-1 letters (escaped), and a long cell that needs a soft break.
            line.Clear();
            var cells = $"{row};M=FCller;{random.Next(100000)};Stra=DFe {random.Next(1000)};" + new string('x', 90) + ";=3Dsum";
            // Soft break every 70 encoded characters, never inside an escape.
            var written = 0;
            var rowDecoded = 0;
            for (var i = 0; i < cells.Length; i++)
            {
                var isEscape = cells[i] == '=';
                var width = isEscape ? 3 : 1;
                if (written + width > 72)
                {
                    line.Append("=\r\n");
                    written = 0;
                }

                line.Append(cells, i, width);
                written += width;
                rowDecoded++;
                i += width - 1;
            }

            line.Append("\r\n");
            rowDecoded += 2;
            output.Write(Encoding.ASCII.GetBytes(line.ToString()));
            decoded += rowDecoded;
            row++;
        }

        // The last row's CRLF is followed by the boundary's CRLF, so the body keeps it: the decoded size includes it.
        return decoded;
    }
}
