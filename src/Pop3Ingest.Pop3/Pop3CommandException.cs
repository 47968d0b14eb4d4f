namespace Pop3Ingest.Pop3;

/// <summary>
/// The server answered <c>-ERR</c>. The session stays usable. The response code (RFC 2449 §8) says why,
/// when the server sent one.
/// </summary>
public class Pop3CommandException : Pop3Exception
{
    /// <summary>Creates the exception for a refused command.</summary>
    public Pop3CommandException(string command, string serverText, Pop3ResponseCode? responseCode)
        : base(FormatMessage(command, serverText, responseCode))
    {
        Command = command;
        ServerText = serverText;
        ResponseCode = responseCode;
    }

    /// <summary>The command that was refused (arguments that carry secrets are not included).</summary>
    public string Command { get; }

    /// <summary>The text of the <c>-ERR</c> line, sanitized for logs.</summary>
    public string ServerText { get; }

    /// <summary>The extended response code, when the server sent one.</summary>
    public Pop3ResponseCode? ResponseCode { get; }

    /// <summary>IN-USE, LOGIN-DELAY and SYS/TEMP are worth retrying later (RFC 2449 §8, RFC 3206 §4).</summary>
    public override bool IsTransient =>
        ResponseCode is { } code &&
        (code.Is(Pop3ResponseCode.InUse) || code.Is(Pop3ResponseCode.LoginDelay) || code.Is(Pop3ResponseCode.SysTemp));

    /// <inheritdoc/>
    public override bool SessionBroken => false;

    private static string FormatMessage(string command, string serverText, Pop3ResponseCode? code) =>
        code is { } c
            ? $"The server refused {command}: [{c.Value}] {serverText}"
            : $"The server refused {command}: {serverText}";
}
