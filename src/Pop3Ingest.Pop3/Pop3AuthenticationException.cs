namespace Pop3Ingest.Pop3;

/// <summary>
/// The server rejected the credentials. Retrying with the same credentials will not help, and may lock the
/// account; callers should report and stop.
/// </summary>
public sealed class Pop3AuthenticationException : Pop3CommandException
{
    /// <summary>Creates the exception for rejected credentials.</summary>
    public Pop3AuthenticationException(string mechanism, string serverText, Pop3ResponseCode? responseCode)
        : base(mechanism, serverText, responseCode)
    {
        Mechanism = mechanism;
    }

    /// <summary>The mechanism that failed (USER/PASS, APOP, PLAIN, LOGIN, XOAUTH2).</summary>
    public string Mechanism { get; }

    /// <summary>Only SYS/TEMP makes an authentication failure worth retrying (RFC 3206 §4).</summary>
    public override bool IsTransient => ResponseCode is { } code && code.Is(Pop3ResponseCode.SysTemp);
}
