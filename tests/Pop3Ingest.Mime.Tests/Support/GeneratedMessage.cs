using System.Text;

namespace Pop3Ingest.Mime.Tests.Support;

/// <summary>
/// A random MIME tree, serialized, with the result the reader must give, computed from the tree (an oracle that
/// knows each body's decoded size because it made it).
/// </summary>
internal sealed class GeneratedMessage
{
    private static readonly string[] s_leafTypes =
        ["text/plain", "text/html", "application/pdf", "image/png", "application/octet-stream", "text/csv"];

    private static readonly string[] s_subtypes = ["mixed", "alternative", "related"];

    private readonly Random _random;
    private readonly EolMode _eolMode;
    private readonly List<AttachmentInfo> _attachments = [];
    private int _boundaries;

    private GeneratedMessage(int seed, EolMode eolMode, int maxDepth)
    {
        _random = new Random(seed);
        _eolMode = eolMode;
        var output = new MemoryStream();
        var root = _random.Next(4) == 0 ? Leaf() : Multipart(0, maxDepth);
        Write(output, "From: gen@example.com");
        Write(output, "Subject: generated");
        Entity(output, root, new MessageContext(), 0);
        Bytes = output.ToArray();
        Attachments = _attachments;
    }

    public enum EolMode
    {
        Crlf,
        Lf,
        Mixed,
    }

    public byte[] Bytes { get; }

    public IReadOnlyList<AttachmentInfo> Attachments { get; }

    public int PartCount { get; private set; } = 1;

    public int NestingDepth { get; private set; }

    public static GeneratedMessage Create(int seed, EolMode eolMode, int maxDepth = 4) => new(seed, eolMode, maxDepth);

    private abstract record Node;

    private sealed record LeafNode(string ContentType, string? Name, string? Disposition, string Encoding, List<string> Lines, long DecodedSize) : Node;

    private sealed record MultipartNode(string Subtype, string Boundary, List<Node> Children, List<string> Preamble, List<string> Epilogue) : Node;

    private sealed record EmbeddedNode(string? Name, bool AttachmentDisposition, Node Body) : Node;

    private Node Multipart(int depth, int maxDepth)
    {
        var children = new List<Node>();
        var count = _random.Next(1, 5);
        for (var i = 0; i < count; i++)
        {
            var pick = _random.Next(10);
            if (pick < 2 && depth + 1 < maxDepth)
            {
                children.Add(Multipart(depth + 1, maxDepth));
            }
            else if (pick == 2 && depth + 2 < maxDepth)
            {
                var body = _random.Next(2) == 0 ? Leaf() : Multipart(depth + 2, maxDepth);
                children.Add(new EmbeddedNode(_random.Next(2) == 0 ? $"msg{_random.Next(100)}.eml" : null, _random.Next(3) == 0, body));
            }
            else
            {
                children.Add(Leaf());
            }
        }

        var boundary = "=_b" + _boundaries++ + "_" + _random.Next(1_000_000);
        return new MultipartNode(s_subtypes[_random.Next(s_subtypes.Length)], boundary, children, TextLines(3, 40), TextLines(3, 40));
    }

    private Node Leaf()
    {
        var type = s_leafTypes[_random.Next(s_leafTypes.Length)];
        var name = _random.Next(3) == 0 ? $"file{_random.Next(1000)}.bin" : null;
        var disposition = _random.Next(4) switch
        {
            0 => "attachment",
            1 => "inline",
            _ => null,
        };

        switch (_random.Next(3))
        {
            case 0:
                {
                    var payload = new byte[_random.Next(0, 400)];
                    _random.NextBytes(payload);
                    var text = Convert.ToBase64String(payload);
                    var width = _random.Next(1, 20) * 4;
                    var lines = new List<string>();
                    for (var i = 0; i < text.Length; i += width)
                    {
                        lines.Add(text.Substring(i, Math.Min(width, text.Length - i)));
                    }

                    return new LeafNode(type, name, disposition, "base64", lines, payload.Length);
                }

            case 1:
                {
                    // Quoted-printable: random bytes, everything but safe ASCII escaped, soft breaks, hard breaks.
                    var lines = new List<string>();
                    long size = 0;
                    var hardLines = _random.Next(1, 4);
                    for (var h = 0; h < hardLines; h++)
                    {
                        var payload = new byte[_random.Next(0, 120)];
                        _random.NextBytes(payload);
                        size += payload.Length;
                        var line = new StringBuilder();
                        foreach (var b in payload)
                        {
                            var piece = b is >= 33 and <= 126 and not (byte)'=' ? ((char)b).ToString() : $"={b:X2}";
                            if (line.Length + piece.Length > 75)
                            {
                                lines.Add(line + "=");
                                line.Clear();
                            }

                            line.Append(piece);
                        }

                        lines.Add(line.ToString());
                    }

                    return new LeafNode(type, name, disposition, "quoted-printable", lines, size);
                }

            default:
                {
                    var lines = TextLines(6, 90);
                    return new LeafNode(type, name, disposition, _random.Next(2) == 0 ? "7bit" : "8bit", lines, -1);
                }
        }
    }

    private List<string> TextLines(int maxLines, int maxLength)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz ABC-=.:;0123456789";
        var lines = new List<string>();
        var count = _random.Next(0, maxLines + 1);
        for (var i = 0; i < count; i++)
        {
            var length = _random.Next(0, maxLength);
            var chars = new char[length];
            for (var c = 0; c < length; c++)
            {
                chars[c] = alphabet[_random.Next(alphabet.Length)];
            }

            lines.Add(new string(chars));
        }

        return lines;
    }

    private string Eol() => _eolMode switch
    {
        EolMode.Crlf => "\r\n",
        EolMode.Lf => "\n",
        _ => _random.Next(2) == 0 ? "\r\n" : "\n",
    };

    private void Write(Stream output, string line, bool eol = true)
    {
        var bytes = Encoding.ASCII.GetBytes(line + (eol ? Eol() : string.Empty));
        output.Write(bytes);
    }

    /// <summary>Writes headers, blank line and body; the caller writes the line break that ends the body.</summary>
    private void Entity(MemoryStream output, Node node, MessageContext context, int depth)
    {
        switch (node)
        {
            case LeafNode leaf:
                {
                    var type = leaf.ContentType + (leaf.Name is null ? string.Empty : $"; name=\"{leaf.Name}\"");
                    Write(output, "Content-Type: " + type);
                    if (leaf.Disposition is not null)
                    {
                        Write(output, "Content-Disposition: " + leaf.Disposition);
                    }

                    Write(output, "Content-Transfer-Encoding: " + leaf.Encoding);
                    Write(output, string.Empty);
                    var start = output.Length;
                    long eolBytes = 0;
                    for (var i = 0; i < leaf.Lines.Count; i++)
                    {
                        var before = output.Length;
                        Write(output, leaf.Lines[i], eol: i < leaf.Lines.Count - 1);
                        var eolLength = output.Length - before - leaf.Lines[i].Length;
                        if (leaf.Encoding == "quoted-printable" && !leaf.Lines[i].EndsWith('='))
                        {
                            eolBytes += eolLength;
                        }
                    }

                    var size = leaf.Encoding switch
                    {
                        "base64" => leaf.DecodedSize,
                        "quoted-printable" => leaf.DecodedSize + eolBytes,
                        _ => output.Length - start,
                    };

                    var isFirst = !context.FirstLeafSeen;
                    context.FirstLeafSeen = true;
                    if (leaf.Disposition == "attachment" || leaf.Name is not null
                        || (leaf.Disposition != "inline" && !isFirst && !leaf.ContentType.StartsWith("text/", StringComparison.Ordinal)))
                    {
                        _attachments.Add(new AttachmentInfo(leaf.Name, leaf.ContentType, size));
                    }

                    break;
                }

            case MultipartNode multipart:
                {
                    NestingDepth = Math.Max(NestingDepth, depth + 1);
                    Write(output, $"Content-Type: multipart/{multipart.Subtype}; boundary=\"{multipart.Boundary}\"");
                    Write(output, string.Empty);
                    foreach (var line in multipart.Preamble)
                    {
                        Write(output, "x" + line);
                    }

                    foreach (var child in multipart.Children)
                    {
                        Write(output, "--" + multipart.Boundary);
                        PartCount++;
                        Entity(output, child, context, depth + 1);
                        Write(output, string.Empty);
                    }

                    Write(output, "--" + multipart.Boundary + "--");
                    for (var i = 0; i < multipart.Epilogue.Count; i++)
                    {
                        Write(output, "x" + multipart.Epilogue[i], eol: i < multipart.Epilogue.Count - 1);
                    }

                    break;
                }

            case EmbeddedNode embedded:
                {
                    NestingDepth = Math.Max(NestingDepth, depth + 1);
                    Write(output, "Content-Type: message/rfc822" + (embedded.Name is null ? string.Empty : $"; name=\"{embedded.Name}\""));
                    if (embedded.AttachmentDisposition)
                    {
                        Write(output, "Content-Disposition: attachment");
                    }

                    Write(output, string.Empty);
                    var index = -1;
                    if (embedded.Name is not null || embedded.AttachmentDisposition)
                    {
                        _attachments.Add(new AttachmentInfo(embedded.Name, "message/rfc822", 0));
                        index = _attachments.Count - 1;
                    }

                    var start = output.Length;
                    PartCount++;
                    Write(output, "Subject: embedded");
                    Entity(output, embedded.Body, new MessageContext(), depth + 1);
                    if (index >= 0)
                    {
                        _attachments[index] = _attachments[index] with { Size = output.Length - start };
                    }

                    break;
                }
        }
    }

    private sealed class MessageContext
    {
        public bool FirstLeafSeen { get; set; }
    }
}
