namespace Pop3Ingest.Pop3;

/// <summary>The authentication mechanism to use.</summary>
public enum Pop3AuthMethod
{
    /// <summary>XOAUTH2 when a token is given, else AUTH PLAIN when offered, else USER/PASS.</summary>
    Auto,

    /// <summary>USER and PASS (RFC 1939 §7).</summary>
    UserPass,

    /// <summary>APOP with the greeting's timestamp (RFC 1939 §7).</summary>
    Apop,

    /// <summary>SASL PLAIN (RFC 5034, RFC 4616).</summary>
    Plain,

    /// <summary>SASL LOGIN (draft-murchison-sasl-login).</summary>
    Login,

    /// <summary>SASL XOAUTH2 with a bearer token (Google, Microsoft 365).</summary>
    XOAuth2,
}
