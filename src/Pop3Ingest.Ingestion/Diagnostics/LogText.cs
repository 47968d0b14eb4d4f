namespace Pop3Ingest.Ingestion.Diagnostics;

/// <summary>Server text fit for a terminal: what an operator reads in a log line or a table.</summary>
internal static class LogText
{
    /// <summary>
    /// A UIDL with every character outside printable ASCII as <c>\xNN</c>. A UIDL is any bytes but CR, LF and space
    /// (RFC 1939 §7 asks for 0x21-0x7E; servers send what they like); raw, an ESC sequence would rewrite the
    /// operator's terminal and a CR would hide the start of the line.
    /// </summary>
    public static string Printable(string uidl)
    {
        // Checked without allocating: this runs for every stored message (event 3013), enabled or not.
        if (uidl.AsSpan().IndexOfAnyExceptInRange((char)0x20, (char)0x7E) < 0)
        {
            return uidl;
        }

        return string.Concat(uidl.Select(c => c is < (char)0x20 or > (char)0x7E ? $"\\x{(int)c:X2}" : c.ToString()));
    }
}
