using System.Buffers;

namespace Pop3Ingest.Mime;

/// <summary>
/// Counts the decoded size of a base64 or quoted-printable body as it streams past, without decoding or storing it.
/// Content arrives in fragments of a line (<see cref="Content"/>) and line endings separately (<see cref="LineEnd"/>),
/// so a line ending that turns out to precede a boundary is never counted (RFC 2046 §5.1.1: it belongs to the boundary).
/// </summary>
internal struct DecodedSizeCounter
{
    private static readonly SearchValues<byte> s_base64AndLineBreaks =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/\r\n"u8);

    private static readonly SearchValues<byte> s_quotedPrintableSpecials = SearchValues.Create("= \t"u8);

    private TransferEncoding _encoding;
    private long _bytes;

    // Base64: alphabet characters since the last flush; '=' ends a group (RFC 2045 §6.8), so a flush turns
    // the characters into bytes 6 bits each, rounded down, as lenient decoders do.
    private long _base64Chars;

    // Quoted-printable state across fragments of a line.
    private int _pendingEol;          // line ending of the previous line, counted once another line follows
    private long _pendingWhitespace;  // trailing-whitespace candidates (RFC 2045 §6.7 rule 3: dropped at line end)
    private int _escape;              // 0: none; 1: after '='; 2: after '=' and one hex digit
    private bool _softBreakCandidate; // '=' followed only by whitespace so far

    public void Reset(TransferEncoding encoding)
    {
        this = default;
        _encoding = encoding;
    }

    /// <summary>The decoded size so far, as if the body ended here.</summary>
    public readonly long Total
    {
        get
        {
            return _encoding switch
            {
                TransferEncoding.Base64 => _bytes + Base64Bytes(_base64Chars),
                TransferEncoding.QuotedPrintable => _bytes + (_escape == 2 ? 2 : 0),
                _ => _bytes,
            };
        }
    }

    public void Content(ReadOnlySpan<byte> data)
    {
        if (_encoding == TransferEncoding.Base64)
        {
            CountBase64(data);
        }
        else if (_encoding == TransferEncoding.QuotedPrintable && !data.IsEmpty)
        {
            CountQuotedPrintable(data);
        }
    }

    public void LineEnd(int eolLength)
    {
        if (_encoding != TransferEncoding.QuotedPrintable)
        {
            return;
        }

        // A line ending means the previous line (if any) was not the last before a boundary.
        _bytes += _pendingEol;
        _pendingEol = 0;
        var softBreak = _escape == 1 || _softBreakCandidate;
        if (_escape == 2)
        {
            _bytes += 2; // "=A" then the line ended: both literal
        }

        _escape = 0;
        _softBreakCandidate = false;
        _pendingWhitespace = 0; // RFC 2045 §6.7 rule 3: trailing whitespace is not data
        if (!softBreak)
        {
            _pendingEol = eolLength;
        }
    }

    /// <summary>At the end of the input (no boundary follows) a pending line ending is data.</summary>
    public void EndOfInput()
    {
        if (_encoding != TransferEncoding.QuotedPrintable)
        {
            if (_encoding == TransferEncoding.Base64)
            {
                Flush();
            }

            return;
        }

        _bytes += _pendingEol;
        _pendingEol = 0;
        if (_escape == 2)
        {
            _bytes += 2;
        }

        _escape = 0;
        _softBreakCandidate = false;
        _pendingWhitespace = 0;
    }

    private static long Base64Bytes(long chars) => (chars / 4 * 3) + (chars % 4 * 6 / 8);

    private void Flush()
    {
        _bytes += Base64Bytes(_base64Chars);
        _base64Chars = 0;
    }

    private void CountBase64(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var stop = data.IndexOfAnyExcept(s_base64AndLineBreaks);
            var run = stop < 0 ? data : data[..stop];
            _base64Chars += run.Length - run.Count((byte)'\n') - run.Count((byte)'\r');
            if (stop < 0)
            {
                return;
            }

            if (data[stop] == (byte)'=')
            {
                Flush();
            }

            // Anything else outside the alphabet (spaces, junk) is skipped, as RFC 2045 §6.8 tells decoders.
            data = data[(stop + 1)..];
        }
    }

    private void CountQuotedPrintable(ReadOnlySpan<byte> data)
    {
        // The previous line's ending is data now that this line has content.
        _bytes += _pendingEol;
        _pendingEol = 0;
        var i = 0;
        while (i < data.Length)
        {
            if (_escape != 0)
            {
                var b = data[i];
                if (_escape == 1)
                {
                    if (IsHex(b))
                    {
                        _escape = 2;
                        i++;
                        continue;
                    }

                    if (b is (byte)' ' or (byte)'\t')
                    {
                        // "=" then whitespace: a soft break if only whitespace follows up to the line end.
                        _escape = 0;
                        _softBreakCandidate = true;
                        _pendingWhitespace = 1;
                        continue;
                    }

                    _bytes++; // a lone '=' is literal; b is looked at afresh
                    _escape = 0;
                    continue;
                }

                // _escape == 2
                _bytes += IsHex(b) ? 1 : 2;
                _escape = 0;
                i += IsHex(b) ? 1 : 0;
                continue;
            }

            var rest = data[i..];
            var special = rest.IndexOfAny(s_quotedPrintableSpecials);
            if (special < 0)
            {
                CommitWhitespace();
                _bytes += rest.Length;
                return;
            }

            if (special > 0)
            {
                CommitWhitespace();
                _bytes += special;
            }

            i += special;
            if (data[i] == (byte)'=')
            {
                CommitWhitespace();
                _escape = 1;
            }
            else
            {
                _pendingWhitespace++;
            }

            i++;
        }
    }

    private void CommitWhitespace()
    {
        _bytes += _pendingWhitespace;
        _pendingWhitespace = 0;
        _softBreakCandidate = false;
    }

    private static bool IsHex(byte b) => b is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'A' and <= (byte)'F') or (>= (byte)'a' and <= (byte)'f');
}
