using System.Buffers;
using System.Text;

namespace Pop3Ingest.Mime;

/// <summary>
/// Buffers one header block, line by line, bounded by a byte limit, and enumerates its fields.
/// Lines are stored without their line endings, separated by LF, so unfolding means dropping the LFs.
/// </summary>
internal sealed class HeaderBlock : IDisposable
{
    private const int InitialSize = 2048;

    private readonly int _maxBytes;
    private byte[] _buffer;
    private int _length;
    private int _lineStart;
    private int _fieldStart = -1;
    private long _rawBytes;
    private int _lines;

    public HeaderBlock(int maxBytes)
    {
        _maxBytes = Math.Max(maxBytes, 0);
        _buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(InitialSize, (long)_maxBytes + 16));
    }

    /// <summary>The completed lines (excluding a <see cref="HeaderLineKind.NotAHeader"/> line).</summary>
    public ReadOnlySpan<byte> Fields => _buffer.AsSpan(0, _lineStart);

    /// <summary>The line left by <see cref="HeaderLineKind.NotAHeader"/> (or the unfinished line).</summary>
    public ReadOnlySpan<byte> PendingLine => _buffer.AsSpan(_lineStart, _length - _lineStart);

    /// <summary>Whether the current line has received content.</summary>
    public bool LineHasContent => _length > _lineStart;

    public void Reset()
    {
        _length = 0;
        _lineStart = 0;
        _fieldStart = -1;
        _rawBytes = 0;
        _lines = 0;
    }

    /// <summary>
    /// Starts a new block whose first line is the pending line of the previous one (a body line replayed as
    /// the first line of an embedded message's header).
    /// </summary>
    public void ResetKeepingPendingLine()
    {
        var line = _length - _lineStart;
        _buffer.AsSpan(_lineStart, line).CopyTo(_buffer);
        _length = line;
        _lineStart = 0;
        _fieldStart = -1;
        _rawBytes = line;
        _lines = 0;
    }

    /// <summary>Appends part of the current line. Returns <see langword="false"/> when the block would exceed the limit;
    /// then the field being built is dropped and nothing more may be appended.</summary>
    public bool Append(ReadOnlySpan<byte> content)
    {
        _rawBytes += content.Length;
        if (_rawBytes > _maxBytes)
        {
            Truncate();
            return false;
        }

        EnsureCapacity(_length + content.Length + 1);
        content.CopyTo(_buffer.AsSpan(_length));
        _length += content.Length;
        return true;
    }

    /// <summary>Ends the current line and classifies it. Returns <see langword="null"/> when the line ending
    /// pushes the block past the limit (the field being built is dropped).</summary>
    public HeaderLineKind? EndLine(int eolLength, bool allowMboxFrom)
    {
        _rawBytes += eolLength;
        if (_rawBytes > _maxBytes && _length > _lineStart)
        {
            Truncate();
            return null;
        }

        var line = _buffer.AsSpan(_lineStart, _length - _lineStart);
        HeaderLineKind kind;
        if (line.IsEmpty)
        {
            return HeaderLineKind.Blank;
        }

        if (line[0] is (byte)' ' or (byte)'\t')
        {
            if (_fieldStart < 0)
            {
                // Indented text before any field: the entity has no header, this is its body.
                return HeaderLineKind.NotAHeader;
            }

            kind = HeaderLineKind.Continuation;
        }
        else if (IsFieldStart(line))
        {
            kind = HeaderLineKind.Field;
            _fieldStart = _lineStart;
        }
        else if (allowMboxFrom && _lines == 0 && line.StartsWith("From "u8))
        {
            kind = HeaderLineKind.Dropped;
        }
        else
        {
            return HeaderLineKind.NotAHeader;
        }

        _lines++;
        if (kind == HeaderLineKind.Dropped)
        {
            _length = _lineStart;
            return kind;
        }

        EnsureCapacity(_length + 1);
        _buffer[_length++] = (byte)'\n';
        _lineStart = _length;
        return kind;
    }

    /// <summary>Ends the block at the end of input: an unfinished line is classified as if it had ended.</summary>
    public HeaderLineKind? EndAtEndOfInput(bool allowMboxFrom) =>
        LineHasContent ? EndLine(0, allowMboxFrom) : HeaderLineKind.Blank;

    public FieldEnumerator GetFields() => new(Fields);

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _length = _lineStart = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// RFC 5322 §2.2 field name: printable ASCII except ':'; §4.5 obsolete syntax allows WSP before the colon.
    /// 8-bit bytes are tolerated in the name, so one broken field does not end the header section.
    /// </summary>
    private static bool IsFieldStart(ReadOnlySpan<byte> line)
    {
        var i = 0;
        while (i < line.Length && line[i] > 32 && line[i] != 127 && line[i] != (byte)':')
        {
            i++;
        }

        if (i == 0)
        {
            return false;
        }

        while (i < line.Length && line[i] is (byte)' ' or (byte)'\t')
        {
            i++;
        }

        return i < line.Length && line[i] == (byte)':';
    }

    private void Truncate()
    {
        _length = _fieldStart >= 0 ? _fieldStart : _lineStart;
        _lineStart = _length;
        _fieldStart = -1;
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _buffer.Length)
        {
            return;
        }

        var grown = ArrayPool<byte>.Shared.Rent((int)Math.Max(needed, Math.Min(Math.Min((long)_buffer.Length * 2, (long)_maxBytes + 16), Array.MaxLength)));
        _buffer.AsSpan(0, _length).CopyTo(grown);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = grown;
    }

    /// <summary>Enumerates fields as (name, raw value) with the folding LFs still inside the value.</summary>
    internal ref struct FieldEnumerator
    {
        private ReadOnlySpan<byte> _rest;

        public FieldEnumerator(ReadOnlySpan<byte> block)
        {
            _rest = block;
            Name = default;
            Value = default;
        }

        public ReadOnlySpan<byte> Name { get; private set; }

        public ReadOnlySpan<byte> Value { get; private set; }

        public bool MoveNext()
        {
            while (!_rest.IsEmpty)
            {
                // A field runs to the first LF not followed by WSP.
                var end = 0;
                while (true)
                {
                    var lf = _rest[end..].IndexOf((byte)'\n');
                    if (lf < 0)
                    {
                        end = _rest.Length;
                        break;
                    }

                    end += lf + 1;
                    if (end >= _rest.Length || _rest[end] is not ((byte)' ' or (byte)'\t'))
                    {
                        break;
                    }
                }

                var field = _rest[..end];
                _rest = _rest[end..];
                var colon = field.IndexOf((byte)':');
                if (colon <= 0 || field[0] is (byte)' ' or (byte)'\t')
                {
                    continue;
                }

                Name = field[..colon].TrimEnd(" \t"u8);
                Value = field[(colon + 1)..];
                return true;
            }

            return false;
        }
    }
}
