using System.Globalization;
using System.Text;

namespace Pop3Ingest.Mime;

/// <summary>
/// Reads a message's routing metadata (addresses, subject, ids, date) and its attachments as the message's
/// bytes stream past, once, holding no more than a bounded amount of them.
/// </summary>
/// <remarks>
/// <para>
/// Push-based and free of I/O: feed consecutive chunks with <see cref="Write"/> (they may split anywhere, even
/// inside a line ending or a boundary), then call <see cref="Complete"/>. Not thread-safe. CRLF, bare LF and a mix
/// of both are accepted as line endings. Memory use does not depend on body size: bodies are never buffered, only
/// scanned for boundary lines and, for base64 and quoted-printable, counted. A header block is buffered up to
/// <see cref="MimeReaderOptions.MaxHeaderBytes"/>; a line that could be a boundary up to
/// <see cref="MimeReaderOptions.MaxBoundaryLength"/> plus some padding. Bounds that are hit are reported in the result,
/// and the rest of the input is consumed cheaply. No input makes it throw.
/// </para>
/// <para>
/// <b>Which parts are attachments.</b> The reader descends into multiparts and into embedded messages
/// (message/rfc822 and message/global with an identity transfer encoding); every other part is a leaf. A leaf is an
/// attachment when
/// <list type="number">
/// <item>its Content-Disposition is <c>attachment</c>, or</item>
/// <item>it has a file name (Content-Disposition <c>filename</c> or Content-Type <c>name</c>), or</item>
/// <item>its Content-Disposition is not <c>inline</c>, its type is not <c>text/*</c>, and it is not the first leaf of
/// its message (the first leaf, in document order, is the message's body).</item>
/// </list>
/// So an unnamed inline image in multipart/related is an attachment only without <c>Content-Disposition: inline</c>,
/// a text part is an attachment only when marked or named, and a message consisting of a single unnamed PDF has no
/// attachment (the PDF is its body). An embedded message is itself listed (as <c>message/rfc822</c>, with the raw size
/// of its body) only by rules 1 and 2; the parts inside it are judged by the same rule, relative to the embedded
/// message, and listed too. Attachments are listed in the order their parts start.
/// </para>
/// </remarks>
public sealed class MessageMetadataReader
{
    // Transport padding (RFC 2046 §5.1.1: whitespace after a boundary) accepted on a boundary line.
    private const int MaxTransportPadding = 256;

    private readonly MimeReaderOptions _options;
    private readonly HeaderValueContext _headerValues;
    private readonly HeaderBlock _headers;
    private readonly MessageMetadataBuilder _builder = new();
    private readonly List<MimeFrame> _frames = [];
    private readonly byte[] _candidate;

    private ReaderState _state = ReaderState.Headers;
    private long _position;
    private long _lineStart;
    private int _lastEol;
    private bool _atLineStart = true;
    private bool _lineHasContent;
    private bool _heldCr;
    private int _candidateLength;
    private int _boundaryCount;

    private bool _isTopEntity = true;
    private bool _inDigest;
    private EntityHeaders? _entity;
    private long _bodyStart;
    private DecodedSizeCounter _counter;

    private int _partCount = 1;
    private int _nestingDepth;
    private MessageMetadata? _result;

    /// <summary>Creates a reader for one message.</summary>
    /// <param name="options">Bounds and fallback charset; <see cref="MimeReaderOptions.Default"/> when <see langword="null"/>.</param>
    public MessageMetadataReader(MimeReaderOptions? options = null)
    {
        _options = (options ?? MimeReaderOptions.Default).Normalized();
        _headerValues = _options.HeaderValues;
        _headers = new HeaderBlock(_options.MaxHeaderBytes);
        _candidate = new byte[_options.MaxBoundaryLength + 4 + MaxTransportPadding];
        _frames.Add(MimeFrame.Message(1, 0, -1));
    }

    private enum ReaderState
    {
        /// <summary>Buffering an entity's header block.</summary>
        Headers,

        /// <summary>A header block past <see cref="MimeReaderOptions.MaxHeaderBytes"/>: skipping to its blank line.</summary>
        HeaderSkip,

        /// <summary>In a leaf's body, measuring it.</summary>
        Body,

        /// <summary>In a preamble, an epilogue or an opaque part: only boundaries matter.</summary>
        Ignore,

        /// <summary>Past <see cref="MimeReaderOptions.MaxParts"/>: nothing matters.</summary>
        SkipAll,
    }

    /// <summary>Convenience: reads a whole message held in memory.</summary>
    /// <param name="message">The message's bytes.</param>
    /// <param name="options">Bounds and fallback charset.</param>
    /// <returns>The metadata.</returns>
    public static MessageMetadata Read(ReadOnlySpan<byte> message, MimeReaderOptions? options = null)
    {
        var reader = new MessageMetadataReader(options);
        reader.Write(message);
        return reader.Complete();
    }

    /// <summary>Feeds the next chunk of the message.</summary>
    /// <param name="data">Bytes that follow the previous chunk; any length, split anywhere.</param>
    /// <exception cref="InvalidOperationException">When called after <see cref="Complete"/> (a caller bug; input never causes it).</exception>
    public void Write(ReadOnlySpan<byte> data)
    {
        if (_result is not null)
        {
            throw new InvalidOperationException("The reader has completed; create a new one for the next message.");
        }

        try
        {
            WriteCore(data);
        }
#pragma warning disable CA1031 // The contract is that input never makes the reader throw; a bug must not lose the message.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            Fail(ex);
        }
    }

    /// <summary>Signals the end of the message and returns what was learned. Calling it again returns the same result.</summary>
    /// <returns>The metadata; never throws.</returns>
    public MessageMetadata Complete()
    {
        if (_result is not null)
        {
            return _result;
        }

        try
        {
            if (_state != ReaderState.SkipAll)
            {
                FinishAtEndOfInput();
            }
        }
#pragma warning disable CA1031 // See Write.
        catch (Exception ex) when (ex is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            Fail(ex);
        }

        _headers.Dispose();
        _result = _builder.Build(Math.Min(_partCount, _options.MaxParts), _nestingDepth);
        return _result;
    }

    private bool NeedsLines => _state is ReaderState.Headers or ReaderState.HeaderSkip
        || (_state == ReaderState.Body && _entity?.Encoding == TransferEncoding.QuotedPrintable);

    private void WriteCore(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_state == ReaderState.SkipAll)
            {
                _position += data.Length;
                return;
            }

            if (_heldCr)
            {
                _heldCr = false;
                if (data[0] == (byte)'\n')
                {
                    _position++;
                    data = data[1..];
                    EndOfLine(2);
                    continue;
                }

                DeliverContent("\r"u8);
            }

            if (_candidateLength > 0 || (_atLineStart && _boundaryCount > 0 && data[0] == (byte)'-'))
            {
                data = data[FeedCandidate(data)..];
                continue;
            }

            int lf;
            if (NeedsLines)
            {
                lf = data.IndexOf((byte)'\n');
            }
            else if (_boundaryCount > 0)
            {
                // Only lines starting with '-' can be boundaries (RFC 2046 §5.1.1): jump from one to the next.
                lf = data.IndexOf("\n-"u8);
            }
            else
            {
                // No boundary can follow: the rest of the input belongs to this body.
                DeliverContent(data);
                _position += data.Length;
                return;
            }

            if (lf < 0)
            {
                var last = data[^1];
                if (last == (byte)'\r')
                {
                    // Maybe the first half of a CRLF split across chunks.
                    DeliverContent(data[..^1]);
                    _position += data.Length;
                    _heldCr = true;
                    return;
                }

                if (last != (byte)'\n')
                {
                    DeliverContent(data);
                    _position += data.Length;
                    return;
                }

                lf = data.Length - 1;
            }

            var eol = lf > 0 && data[lf - 1] == (byte)'\r' ? 2 : 1;
            DeliverContent(data[..(lf + 1 - eol)]);
            _position += lf + 1;
            data = data[(lf + 1)..];
            EndOfLine(eol);
        }
    }

    /// <summary>
    /// Collects a line that starts with '-' while boundaries are open, up to the longest a boundary line can be.
    /// Returns how many bytes of <paramref name="data"/> it took.
    /// </summary>
    private int FeedCandidate(ReadOnlySpan<byte> data)
    {
        var cap = _candidate.Length;
        var room = cap - _candidateLength;
        var lf = data[..Math.Min(data.Length, room + 1)].IndexOf((byte)'\n');
        if (lf >= 0)
        {
            ReadOnlySpan<byte> line;
            if (_candidateLength == 0)
            {
                line = data[..lf];
            }
            else
            {
                data[..lf].CopyTo(_candidate.AsSpan(_candidateLength));
                line = _candidate.AsSpan(0, _candidateLength + lf);
                _candidateLength = 0;
            }

            var eol = 1;
            if (!line.IsEmpty && line[^1] == (byte)'\r')
            {
                line = line[..^1];
                eol = 2;
            }

            _position += lf + 1;
            CompleteCandidate(line, eol);
            return lf + 1;
        }

        if (data.Length > room)
        {
            // Too long to be a boundary line: what was held back is ordinary content.
            if (_candidateLength > 0)
            {
                var held = _candidateLength;
                _candidateLength = 0;
                DeliverContent(_candidate.AsSpan(0, held));
            }

            _atLineStart = false;
            return 0;
        }

        data.CopyTo(_candidate.AsSpan(_candidateLength));
        _candidateLength += data.Length;
        _position += data.Length;
        return data.Length;
    }

    private void CompleteCandidate(ReadOnlySpan<byte> line, int eol)
    {
        if (TryMatchBoundary(line, out var level, out var isClose))
        {
            OnBoundary(level, isClose);
            _lastEol = eol;
            _atLineStart = true;
            _lineHasContent = false;
            _lineStart = _position;
            return;
        }

        DeliverContent(line);
        EndOfLine(eol);
    }

    /// <summary>
    /// RFC 2046 §5.1.1: "--" boundary, or "--" boundary "--" for the last one, then optional whitespace.
    /// The innermost open multipart is tried first; a match further out closes the ones inside it.
    /// </summary>
    private bool TryMatchBoundary(ReadOnlySpan<byte> line, out int level, out bool isClose)
    {
        level = -1;
        isClose = false;
        if (_boundaryCount == 0 || line.Length < 3 || line[0] != (byte)'-' || line[1] != (byte)'-')
        {
            return false;
        }

        var rest = line[2..].TrimEnd(" \t\r"u8);
        for (var i = _frames.Count - 1; i > 0; i--)
        {
            var boundary = _frames[i].Boundary;
            if (boundary is null || !rest.StartsWith(boundary))
            {
                continue;
            }

            if (rest.Length == boundary.Length)
            {
                level = i;
                return true;
            }

            if (rest.Length == boundary.Length + 2 && rest.EndsWith("--"u8))
            {
                level = i;
                isClose = true;
                return true;
            }
        }

        return false;
    }

    private void DeliverContent(ReadOnlySpan<byte> content)
    {
        if (content.IsEmpty)
        {
            return;
        }

        _atLineStart = false;
        _lineHasContent = true;
        switch (_state)
        {
            case ReaderState.Headers:
                if (!_headers.Append(content))
                {
                    EnterHeaderSkip();
                }

                break;
            case ReaderState.Body:
                _counter.Content(content);
                break;
        }
    }

    private void EndOfLine(int eol)
    {
        switch (_state)
        {
            case ReaderState.Headers:
                OnHeaderLineEnd(eol);
                break;
            case ReaderState.HeaderSkip:
                if (!_lineHasContent)
                {
                    EndHeaderBlock(_position);
                }

                break;
            case ReaderState.Body:
                _counter.LineEnd(eol);
                break;
        }

        _lastEol = eol;
        _atLineStart = true;
        _lineHasContent = false;
        _lineStart = _position;
    }

    private void OnHeaderLineEnd(int eol)
    {
        switch (_headers.EndLine(eol, allowMboxFrom: _isTopEntity))
        {
            case null:
                EnterHeaderSkip();
                break;
            case HeaderLineKind.Blank:
                EndHeaderBlock(_position);
                break;
            case HeaderLineKind.NotAHeader:
                // The header section ended without its blank line; this line is the first of the body.
                EndHeaderBlock(_lineStart, keepPendingLine: true);
                ReplayPendingLine(eol);
                break;
        }
    }

    private void ReplayPendingLine(int eol)
    {
        // Not re-entrant on the stack for long: an embedded message replays into its own header block at most once
        // per nesting level, and nesting is bounded by MaxDepth.
        if (_state == ReaderState.Headers)
        {
            if (eol > 0)
            {
                OnHeaderLineEnd(eol);
            }

            return;
        }

        var line = _headers.PendingLine;
        if (TryMatchBoundary(line, out var level, out var isClose))
        {
            // The multipart that just began may be opened by this very line.
            OnBoundary(level, isClose);
            return;
        }

        if (_state == ReaderState.Body)
        {
            _counter.Content(line);
            if (eol > 0)
            {
                _counter.LineEnd(eol);
            }
        }
    }

    private void EnterHeaderSkip()
    {
        _state = ReaderState.HeaderSkip;
        _builder.AddProblem(
            string.Create(CultureInfo.InvariantCulture, $"Header block of part {_partCount} exceeds MaxHeaderBytes ({_options.MaxHeaderBytes}); the rest of it was skipped."),
            limitExceeded: true);
    }

    private void BeginEntityHeaders(bool keepPendingLine)
    {
        if (keepPendingLine)
        {
            _headers.ResetKeepingPendingLine();
        }
        else
        {
            _headers.Reset();
        }

        var parent = _frames[^1];
        _inDigest = parent.IsMultipart && parent.IsDigest;
        _entity = null;
        _state = ReaderState.Headers;
    }

    private EntityHeaders ParseEntityHeaders()
    {
        var entity = EntityHeaders.Parse(_headers.GetFields(), _inDigest, _headerValues, _isTopEntity ? _builder : null);
        _isTopEntity = false;
        return entity;
    }

    private void EndHeaderBlock(long bodyStart, bool keepPendingLine = false)
    {
        var entity = ParseEntityHeaders();
        _bodyStart = bodyStart;
        var containers = _frames.Count - 1;
        if (entity.IsMultipart)
        {
            _entity = null;
            _state = ReaderState.Ignore;
            if (entity.Boundary is null)
            {
                _builder.AddProblem(string.Create(CultureInfo.InvariantCulture, $"Part {_partCount} is {entity.ContentType} without a boundary; its content was not examined."));
                return;
            }

            if (entity.Boundary.Length > _options.MaxBoundaryLength)
            {
                _builder.AddProblem(
                    string.Create(CultureInfo.InvariantCulture, $"Part {_partCount} has a boundary longer than MaxBoundaryLength ({_options.MaxBoundaryLength}); its content was not examined."),
                    limitExceeded: true);
                return;
            }

            if (containers >= _options.MaxDepth)
            {
                _builder.AddProblem(
                    string.Create(CultureInfo.InvariantCulture, $"Part {_partCount} is nested deeper than MaxDepth ({_options.MaxDepth}); its content was not examined."),
                    limitExceeded: true);
                return;
            }

            // The preamble (RFC 2046 §5.1.1) runs up to the first boundary.
            _frames.Add(MimeFrame.Multipart(_partCount, entity.Boundary, entity.IsDigest));
            _boundaryCount++;
            _nestingDepth = Math.Max(_nestingDepth, containers + 1);
            return;
        }

        if (entity.IsMessage && entity.Encoding == TransferEncoding.Identity)
        {
            if (containers >= _options.MaxDepth)
            {
                _builder.AddProblem(
                    string.Create(CultureInfo.InvariantCulture, $"Part {_partCount} is nested deeper than MaxDepth ({_options.MaxDepth}); its content was not examined."),
                    limitExceeded: true);
            }
            else
            {
                // RFC 2046 §5.2.1: descend; the embedded message is an entity with its own header and body.
                var index = AttachmentRule.IsAttachmentMessage(entity)
                    ? _builder.AddAttachment(entity.FileName, "message/rfc822", 0)
                    : -1;
                _frames.Add(MimeFrame.Message(_partCount + 1, bodyStart, index));
                _nestingDepth = Math.Max(_nestingDepth, containers + 1);
                if (TryCountPart())
                {
                    BeginEntityHeaders(keepPendingLine);
                }

                return;
            }
        }

        _entity = entity;
        _state = ReaderState.Body;
        _counter.Reset(entity.Encoding);
    }

    private bool TryCountPart()
    {
        if (_partCount >= _options.MaxParts)
        {
            _builder.AddProblem(
                string.Create(CultureInfo.InvariantCulture, $"The message has more than MaxParts ({_options.MaxParts}) parts; the rest was not examined."),
                limitExceeded: true);
            EnterSkipAll();
            return false;
        }

        _partCount++;
        return true;
    }

    private void OnBoundary(int level, bool isClose)
    {
        // RFC 2046 §5.1.1: the line break before a boundary belongs to the boundary.
        var end = _lineStart - _lastEol;
        FinishEntity(end, endOfInput: false);
        while (_frames.Count - 1 > level)
        {
            PopFrame(end, unterminated: true);
        }

        if (isClose)
        {
            PopFrame(end, unterminated: false);
            _state = ReaderState.Ignore; // the epilogue
            return;
        }

        if (TryCountPart())
        {
            BeginEntityHeaders(keepPendingLine: false);
        }
    }

    /// <summary>Ends the current entity (a leaf's body, or a header block cut short) at stream offset <paramref name="end"/>.</summary>
    private void FinishEntity(long end, bool endOfInput)
    {
        switch (_state)
        {
            case ReaderState.Headers:
            case ReaderState.HeaderSkip:
                {
                    // A part whose header block was ended by a boundary (or the input): it has an empty body.
                    var entity = ParseEntityHeaders();
                    if (entity.IsMessage && entity.Encoding == TransferEncoding.Identity)
                    {
                        if (AttachmentRule.IsAttachmentMessage(entity))
                        {
                            _builder.AddAttachment(entity.FileName, "message/rfc822", 0);
                        }
                    }
                    else if (!entity.IsMultipart)
                    {
                        RecordLeaf(entity, 0);
                    }

                    break;
                }

            case ReaderState.Body when _entity is not null:
                {
                    long size;
                    if (_entity.Encoding == TransferEncoding.Identity)
                    {
                        size = Math.Max(0, end - _bodyStart);
                    }
                    else
                    {
                        if (endOfInput)
                        {
                            _counter.EndOfInput();
                        }

                        size = _counter.Total;
                    }

                    RecordLeaf(_entity, size);
                    break;
                }
        }

        _entity = null;
        _state = ReaderState.Ignore;
    }

    private void RecordLeaf(EntityHeaders entity, long size)
    {
        var message = _frames[0];
        for (var i = _frames.Count - 1; i >= 0; i--)
        {
            if (!_frames[i].IsMultipart)
            {
                message = _frames[i];
                break;
            }
        }

        var isFirst = !message.FirstLeafSeen;
        message.FirstLeafSeen = true;
        if (AttachmentRule.IsAttachmentLeaf(entity, isFirst))
        {
            _builder.AddAttachment(entity.FileName, entity.ContentType, size);
        }
    }

    private void PopFrame(long end, bool unterminated)
    {
        var frame = _frames[^1];
        _frames.RemoveAt(_frames.Count - 1);
        if (frame.IsMultipart)
        {
            _boundaryCount--;
            if (unterminated)
            {
                _builder.AddProblem(string.Create(CultureInfo.InvariantCulture, $"The multipart of part {frame.PartNumber} was not closed by its final boundary."));
            }
        }
        else if (frame.AttachmentIndex >= 0)
        {
            _builder.SetAttachmentSize(frame.AttachmentIndex, Math.Max(0, end - frame.BodyStart));
        }
    }

    private void FinishAtEndOfInput()
    {
        if (_heldCr)
        {
            _heldCr = false;
            DeliverContent("\r"u8);
        }

        if (_candidateLength > 0)
        {
            var length = _candidateLength;
            _candidateLength = 0;
            var line = _candidate.AsSpan(0, length);
            if (TryMatchBoundary(line, out var level, out var isClose))
            {
                OnBoundary(level, isClose);
                _lastEol = 0;
                _lineStart = _position;
            }
            else
            {
                DeliverContent(line);
            }
        }

        // A header block the input ended in; an embedded message may open another, at most MaxDepth times.
        while (_state is ReaderState.Headers or ReaderState.HeaderSkip)
        {
            if (_state == ReaderState.HeaderSkip)
            {
                EndHeaderBlock(_position);
                continue;
            }

            var kind = _headers.EndAtEndOfInput(allowMboxFrom: _isTopEntity);
            if (kind == HeaderLineKind.NotAHeader)
            {
                EndHeaderBlock(_lineStart, keepPendingLine: true);
                ReplayPendingLine(0);
            }
            else
            {
                EndHeaderBlock(_position);
            }
        }

        FinishEntity(_position, endOfInput: true);
        while (_frames.Count > 1)
        {
            PopFrame(_position, unterminated: true);
        }
    }

    private void EnterSkipAll()
    {
        // Sizes of embedded messages still open are measured up to here.
        while (_frames.Count > 1)
        {
            PopFrame(_lineStart, unterminated: false);
        }

        _state = ReaderState.SkipAll;
        _entity = null;
        _candidateLength = 0;
        _heldCr = false;
    }

    private void Fail(Exception ex)
    {
        _builder.AddProblem("Internal error while reading the message (" + ex.GetType().Name + "); the rest was not examined.");
        EnterSkipAll();
    }
}
