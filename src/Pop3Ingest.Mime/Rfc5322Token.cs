namespace Pop3Ingest.Mime;

/// <summary>One token; <paramref name="SpaceBefore"/> tells whether whitespace or a comment preceded it.</summary>
internal readonly record struct Rfc5322Token(Rfc5322TokenKind Kind, string Text, bool SpaceBefore)
{
    public bool Is(char special) => Kind == Rfc5322TokenKind.Special && Text.Length == 1 && Text[0] == special;
}
