using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Pop3Ingest.Mime.Tests.Support;

namespace Pop3Ingest.Mime.Tests;

/// <summary>
/// Random, mutated and generated messages: the reader never throws, stays within its bounds, does not care how
/// the input is chunked, and measures generated MIME trees exactly.
/// </summary>
public sealed class PropertyTests
{
    private static readonly MimeReaderOptions[] s_options =
    [
        MimeReaderOptions.Default,
        new() { MaxDepth = 2, MaxParts = 6, MaxHeaderBytes = 120, MaxBoundaryLength = 8 },
        new() { MaxDepth = 1, MaxParts = 2, MaxHeaderBytes = 1, MaxBoundaryLength = 1 },
    ];

    // Pieces that steer the reader into its interesting states.
    private static readonly byte[][] s_fragments = new[]
    {
        "\r\n", "\n", "\r", "\r\n\r\n", "\n\n", " ", "\t", "-", "--", "--b", "--b--", "--c", "--c--", "--b  \r\n",
        "Content-Type: multipart/mixed; boundary=b\r\n", "Content-Type: multipart/digest; boundary=\"c\"\n",
        "Content-Type: message/rfc822\r\n", "Content-Type: message/rfc822; name=m.eml\n", "Content-Type: image/png; name*0=a; name*1*=%E2%82\r\n",
        "Content-Transfer-Encoding: base64\r\n", "Content-Transfer-Encoding: quoted-printable\n",
        "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC\r\n", "Content-Disposition: inline\r\n",
        "Subject: =?utf-8?B?w6k=?= =?iso-2022-jp?B?GyRCRnxLXDhsGyhC?=\r\n", "From: \"a\" <b@c>, (x) d@e, g: h@i;\r\n",
        "To: <@r:x@y> (c (nested)) \"q\\\"\"@z\r\n", "Date: Fri, 21 Nov 97 09:55 EST\r\n", "Message-ID: <a@b>\r\n",
        "References: <a@b> <c@d>\r\n", "X-Long: ", "=?", "?=", "=?utf-8?Q?", "=\r\n", "=3D", "=4", "QUJD", "QQ==", "==",
        ":", ";", "\"", "(", ")", "<", ">", "@", ",", "From ", "\u00e9", "\u65e5",
    }.Select(Encoding.UTF8.GetBytes).ToArray();

    private static readonly byte[][] s_fixtures = Fixture.Names.Select(Fixture.Bytes).ToArray();

    private static Gen<byte[]> Fragment =>
        Gen.Frequency(
            (6, Gen.Elements(s_fragments)),
            (1, Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b))),
            (1, Gen.Choose(0, 300).Select(n => Encoding.ASCII.GetBytes(new string('a', n)))));

    private static Gen<byte[]> RandomMessage => Gen.ListOf(Fragment).Select(parts => parts.SelectMany(p => p).ToArray());

    private static Gen<int[]> Chunking => Gen.ArrayOf(Gen.Choose(1, 80));

    private static Gen<byte[]> MutatedFixture =>
        from index in Gen.Choose(0, s_fixtures.Length - 1)
        from mutations in Gen.ListOf(
            from kind in Gen.Choose(0, 3)
            from at in Gen.Choose(0, 10_000)
            from length in Gen.Choose(1, 64)
            from fragment in Fragment
            select (kind, at, length, fragment))
        select Mutate(s_fixtures[index], mutations);

    private static byte[] Mutate(byte[] original, IEnumerable<(int Kind, int At, int Length, byte[] Fragment)> mutations)
    {
        var bytes = new List<byte>(original);
        foreach (var (kind, at, length, fragment) in mutations)
        {
            var position = bytes.Count == 0 ? 0 : at % bytes.Count;
            switch (kind)
            {
                case 0:
                    bytes.InsertRange(position, fragment);
                    break;
                case 1:
                    bytes.RemoveRange(position, Math.Min(length, bytes.Count - position));
                    break;
                case 2 when bytes.Count > 0:
                    bytes[position] ^= (byte)(1 << (length % 8));
                    break;
                default:
                    bytes.InsertRange(position, bytes.Skip(position).Take(length).ToArray());
                    break;
            }
        }

        return bytes.ToArray();
    }

    /// <summary>Reads whole and in chunks; both must agree and stay within the bounds.</summary>
    private static bool HoldsInvariants(byte[] message, int[] chunks, MimeReaderOptions options)
    {
        var whole = MessageMetadataReader.Read(message, options);
        var chunked = Fixture.ReadInChunks(message, options, chunks);
        return Fixture.Canonical(whole) == Fixture.Canonical(chunked)
            && whole.PartCount <= options.MaxParts
            && whole.NestingDepth <= options.MaxDepth
            && whole.Problems.Count <= 51
            && !whole.Problems.Any(p => p.StartsWith("Internal error", StringComparison.Ordinal))
            && whole.Attachments.All(a => a.Size >= 0 && a.ContentType.Length > 0);
    }

    [Property(MaxTest = 400)]
    public Property Random_input_never_throws_and_stays_within_bounds() =>
        Prop.ForAll(
            (from message in RandomMessage from chunks in Chunking from option in Gen.Elements(s_options) select (message, chunks, option)).ToArbitrary(),
            input => HoldsInvariants(input.message, input.chunks, input.option));

    [Property(MaxTest = 300)]
    public Property Mutated_fixtures_never_throw_and_stay_within_bounds() =>
        Prop.ForAll(
            (from message in MutatedFixture from chunks in Chunking from option in Gen.Elements(s_options) select (message, chunks, option)).ToArbitrary(),
            input => HoldsInvariants(input.message, input.chunks, input.option));

    [Property(MaxTest = 300)]
    public Property Generated_messages_are_measured_exactly() =>
        Prop.ForAll(
            (from seed in Gen.Choose(0, int.MaxValue)
             from mode in Gen.Elements(GeneratedMessage.EolMode.Crlf, GeneratedMessage.EolMode.Lf, GeneratedMessage.EolMode.Mixed)
             from chunks in Chunking
             select (seed, mode, chunks)).ToArbitrary(),
            input =>
            {
                var generated = GeneratedMessage.Create(input.seed, input.mode);
                var whole = MessageMetadataReader.Read(generated.Bytes);
                var chunked = Fixture.ReadInChunks(generated.Bytes, MimeReaderOptions.Default, input.chunks);
                return whole.Attachments.SequenceEqual(generated.Attachments)
                    && whole.PartCount == generated.PartCount
                    && whole.NestingDepth == generated.NestingDepth
                    && whole.Problems.Count == 0
                    && Fixture.Canonical(whole) == Fixture.Canonical(chunked);
            });

    [Property(MaxTest = 100)]
    public Property Nesting_never_exceeds_max_depth() =>
        Prop.ForAll(
            (from kinds in Gen.ListOf(Gen.Elements(true, false))
             from maxDepth in Gen.Choose(1, 8)
             select (kinds: kinds.ToArray(), maxDepth)).ToArbitrary(),
            input =>
            {
                // A chain of multiparts (true) and embedded messages (false), a named leaf at the bottom.
                var text = new StringBuilder("Subject: chain\r\n");
                for (var i = 0; i < input.kinds.Length; i++)
                {
                    text.Append(input.kinds[i] ? $"Content-Type: multipart/mixed; boundary=n{i}\r\n\r\n--n{i}\r\n" : "Content-Type: message/rfc822\r\n\r\n");
                }

                text.Append("Content-Type: application/pdf; name=leaf.pdf\r\n\r\n%PDF\r\n");
                for (var i = input.kinds.Length - 1; i >= 0; i--)
                {
                    if (input.kinds[i])
                    {
                        text.Append($"--n{i}--\r\n");
                    }
                }

                var options = new MimeReaderOptions { MaxDepth = input.maxDepth };
                var m = MessageMetadataReader.Read(Encoding.ASCII.GetBytes(text.ToString()), options);
                var deep = input.kinds.Length > input.maxDepth;
                return m.NestingDepth == Math.Min(input.kinds.Length, input.maxDepth)
                    && m.LimitsExceeded == deep
                    && m.Attachments.Count == (deep ? 0 : 1);
            });

    [Property(MaxTest = 100)]
    public Property Parts_never_exceed_max_parts() =>
        Prop.ForAll(
            (from parts in Gen.Choose(0, 40) from maxParts in Gen.Choose(1, 20) select (parts, maxParts)).ToArbitrary(),
            input =>
            {
                var text = new StringBuilder("Content-Type: multipart/mixed; boundary=p\r\n\r\n");
                for (var i = 0; i < input.parts; i++)
                {
                    text.Append($"--p\r\nContent-Type: application/octet-stream; name=f{i}\r\n\r\n{i}\r\n");
                }

                text.Append("--p--\r\n");
                var m = MessageMetadataReader.Read(Encoding.ASCII.GetBytes(text.ToString()), new MimeReaderOptions { MaxParts = input.maxParts });
                var entities = input.parts + 1;
                return m.PartCount == Math.Min(entities, input.maxParts)
                    && m.LimitsExceeded == (entities > input.maxParts)
                    && m.Attachments.Count == Math.Min(input.parts, input.maxParts - 1);
            });
}
