using System.Text;
using Pop3Ingest.Mime;

namespace Pop3Ingest.Benchmarks.ReaderHarness;

/// <summary>
/// A header block with one hostile field just under the reader's header cap, the shapes of
/// <c>tests/Pop3Ingest.Mime.Tests/HostileValueTests.cs</c> (same names, same pieces, same checks): that test bounds
/// the allocations of MimeKit's value parsers on them, this harness times them. The harness cannot reference a test
/// project, so the generator is mirrored here; a shape added or changed there belongs here too.
/// </summary>
internal static class HostileMessage
{
    /// <summary>The reader's header cap (256 KiB), which bounds what MimeKit's value parsers are ever given.</summary>
    public static readonly int Cap = MimeReaderOptions.Default.MaxHeaderBytes;

    /// <summary>A field of about this many bytes, folded into lines of about 76, leaving room for the rest of the block.</summary>
    public static readonly int Large = Cap - 4096;

    /// <summary>A quarter of <see cref="Large"/>: linear cost reads it in a quarter of the time, quadratic in a sixteenth.</summary>
    public static readonly int Small = Large / 4;

    public static IReadOnlyList<string> Kinds { get; } = ["addresses", "encoded-words", "continuations", "comments", "quotes", "groups", "dates"];

    /// <summary>The message, and a check of what the reader must yield from it (it throws on a wrong result).</summary>
    public static (byte[] Message, Action<MessageMetadata> Check) Build(string kind, int size)
    {
        var field = new StringBuilder();
        var line = 0;
        void Add(string piece)
        {
            // RFC 5322 §2.2.3 folding: a line break before whitespace.
            if (line + piece.Length > 76)
            {
                field.Append("\r\n");
                line = 0;
            }

            field.Append(piece);
            line += piece.Length;
        }

        var count = 0;
        switch (kind)
        {
            case "addresses":
                field.Append("To:");
                while (field.Length < size)
                {
                    Add($" \"Name {count}\" <user{count}@example.com>,");
                    count++;
                }

                return (Message(field), m => Expect(kind, m, m.To.Count == count, $"{m.To.Count} To addresses instead of {count}"));
            case "encoded-words":
                field.Append("Subject:");
                while (field.Length < size)
                {
                    Add(" =?utf-8?B?w6k=?=");
                    count++;
                }

                // RFC 2047 §6.2: the whitespace between adjacent encoded words goes.
                return (Message(field), m => Expect(kind, m, m.Subject == new string('é', count), $"a subject of {m.Subject?.Length} characters instead of {count} é"));
            case "continuations":
                field.Append("Content-Type: application/octet-stream\r\nContent-Disposition: attachment;");
                while (field.Length < size)
                {
                    Add($" filename*{count}*={(count == 0 ? "utf-8''" : string.Empty)}%C3%A9;");
                    count++;
                }

                return (Message(field), m => Expect(
                    kind, m, m.Attachments.Count == 1 && m.Attachments[0].FileName == new string('é', count),
                    $"{m.Attachments.Count} attachments, the first named with {(m.Attachments.Count > 0 ? m.Attachments[0].FileName?.Length : null)} characters instead of {count} é"));
            case "comments":
                // Nested comments that never close.
                field.Append("From: a@example.com ");
                while (field.Length < size)
                {
                    Add(" (((((((((((((((((((");
                }

                return (Message(field), m => Expect(kind, m, true, string.Empty));
            case "quotes":
                field.Append("Cc: \"");
                while (field.Length < size)
                {
                    Add(" \\\" unterminated <x@y>,");
                }

                return (Message(field), m => Expect(kind, m, true, string.Empty));
            case "groups":
                field.Append("To:");
                while (field.Length < size)
                {
                    Add($" g{count}: m{count}@example.com;");
                    count++;
                }

                return (Message(field), m => Expect(kind, m, m.To.Count == count, $"{m.To.Count} To addresses instead of {count}"));
            case "dates":
                field.Append("Date: Fri, 21 Nov 1997 09:55:06 -0600");
                while (field.Length < size)
                {
                    Add(" (comment 21 Nov 1997)");
                }

                return (Message(field), m => Expect(kind, m, m.Date is not null, "no date"));
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a hostile shape.");
        }
    }

    private static byte[] Message(StringBuilder field) => Encoding.UTF8.GetBytes(field + "\r\n\r\nbody\r\n");

    /// <summary>
    /// The value read whole, under the cap (over it the figure would be about the cap's skipping, not the parsers),
    /// and no parser failure turned into a problem.
    /// </summary>
    private static void Expect(string kind, MessageMetadata metadata, bool right, string wrong)
    {
        var problems = new List<string>();
        if (!right)
        {
            problems.Add(wrong);
        }

        if (metadata.LimitsExceeded)
        {
            problems.Add("the header cap was hit");
        }

        problems.AddRange(metadata.Problems.Where(p => p.StartsWith("Internal error", StringComparison.Ordinal)));
        if (problems.Count > 0)
        {
            throw new InvalidOperationException($"The metadata reader read the hostile '{kind}' message wrong: {string.Join("; ", problems)}");
        }
    }
}
