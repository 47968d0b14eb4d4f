using System.Collections.Concurrent;
using System.Text;

namespace Pop3Ingest.Mime;

/// <summary>
/// <see cref="CodePagesEncodingProvider"/> with its answers by code page remembered, the code pages it does not have
/// included. Registered in its place (<see cref="Charsets"/>): it gives the same encodings.
/// </summary>
/// <remarks>
/// Once a provider is registered, <see cref="Encoding.GetEncoding(int)"/> asks it first, even for the encodings .NET
/// has built in. <see cref="CodePagesEncodingProvider"/> remembers the code pages it has, but for one it does not
/// (65001, UTF-8, above all) it searches its whole code-page table again on every call, under a lock. MimeKit looks up
/// UTF-8 by number for every mailbox and every encoded word it decodes: in a profile of the reader on a 10 KB
/// message with six addresses, that search was a fifth of the CPU time.
/// </remarks>
internal sealed class CachedCodePagesProvider : EncodingProvider
{
    // Code pages are 16-bit (Encoding.GetEncoding refuses anything else), so the cache holds at most 65,536 entries
    // whatever charsets a sender names.
    private const int MaxCodePage = 65535;

    private readonly ConcurrentDictionary<int, Encoding?> _byCodePage = new();

    private CachedCodePagesProvider()
    {
    }

    public static CachedCodePagesProvider Instance { get; } = new();

    public override Encoding? GetEncoding(int codepage)
    {
        if (codepage is < 0 or > MaxCodePage)
        {
            return CodePagesEncodingProvider.Instance.GetEncoding(codepage);
        }

        return _byCodePage.GetOrAdd(codepage, static c => CodePagesEncodingProvider.Instance.GetEncoding(c));
    }

    public override Encoding? GetEncoding(string name) => CodePagesEncodingProvider.Instance.GetEncoding(name);

    public override IEnumerable<EncodingInfo> GetEncodings() => CodePagesEncodingProvider.Instance.GetEncodings();
}
