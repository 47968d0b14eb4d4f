namespace Pop3Ingest.Pop3;

/// <summary>Capabilities a server advertised with CAPA (RFC 2449 §6), or the baseline assumed without it.</summary>
[Flags]
public enum Pop3CapabilityFlags
{
    /// <summary>Nothing known.</summary>
    None = 0,

    /// <summary>The server answered CAPA.</summary>
    Capa = 1 << 0,

    /// <summary>TOP (RFC 2449 §6.1).</summary>
    Top = 1 << 1,

    /// <summary>USER/PASS (RFC 2449 §6.2).</summary>
    User = 1 << 2,

    /// <summary>SASL AUTH (RFC 2449 §6.3, RFC 5034).</summary>
    Sasl = 1 << 3,

    /// <summary>Extended response codes (RFC 2449 §6.4).</summary>
    RespCodes = 1 << 4,

    /// <summary>LOGIN-DELAY (RFC 2449 §6.5).</summary>
    LoginDelay = 1 << 5,

    /// <summary>PIPELINING (RFC 2449 §6.6).</summary>
    Pipelining = 1 << 6,

    /// <summary>EXPIRE (RFC 2449 §6.7).</summary>
    Expire = 1 << 7,

    /// <summary>UIDL (RFC 2449 §6.8).</summary>
    Uidl = 1 << 8,

    /// <summary>IMPLEMENTATION (RFC 2449 §6.9).</summary>
    Implementation = 1 << 9,

    /// <summary>STLS (RFC 2595 §4).</summary>
    Stls = 1 << 10,

    /// <summary>AUTH-RESP-CODE (RFC 3206 §4).</summary>
    AuthRespCode = 1 << 11,

    /// <summary>UTF8 (RFC 6856).</summary>
    Utf8 = 1 << 12,

    /// <summary>APOP is possible: the greeting carried a timestamp (RFC 1939 §7).</summary>
    Apop = 1 << 13,
}
