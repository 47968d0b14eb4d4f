namespace Pop3Ingest.Mime;

/// <summary>The kinds of lexical tokens of RFC 5322 §3.2 structured header fields.</summary>
internal enum Rfc5322TokenKind
{
    /// <summary>An atom (atext, plus non-ASCII characters per RFC 6532). Dots are separate <see cref="Special"/> tokens.</summary>
    Atom,

    /// <summary>A quoted string; <see cref="Rfc5322Token.Text"/> holds its content with quoted pairs resolved.</summary>
    QuotedString,

    /// <summary>A domain literal, brackets included.</summary>
    DomainLiteral,

    /// <summary>A comment; <see cref="Rfc5322Token.Text"/> holds its content without the outer parentheses.</summary>
    Comment,

    /// <summary>One special character: &lt; &gt; : ; @ , . or a stray ] or \.</summary>
    Special,
}
