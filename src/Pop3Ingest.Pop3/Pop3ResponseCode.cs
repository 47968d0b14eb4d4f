namespace Pop3Ingest.Pop3;

/// <summary>
/// An extended response code (RFC 2449 §8, RFC 3206) such as <c>IN-USE</c> or <c>SYS/TEMP</c>, taken from
/// the bracketed text after <c>+OK</c> or <c>-ERR</c>.
/// </summary>
public readonly record struct Pop3ResponseCode(string Value)
{
    /// <summary>RFC 2449 §8.1.1: the maildrop is locked by another session.</summary>
    public static readonly Pop3ResponseCode InUse = new("IN-USE");

    /// <summary>RFC 2449 §8.1.2: logged in too soon after the last login.</summary>
    public static readonly Pop3ResponseCode LoginDelay = new("LOGIN-DELAY");

    /// <summary>RFC 3206 §4: a temporary system problem; retrying later may work.</summary>
    public static readonly Pop3ResponseCode SysTemp = new("SYS/TEMP");

    /// <summary>RFC 3206 §4: a permanent system problem; retrying will not help without intervention.</summary>
    public static readonly Pop3ResponseCode SysPerm = new("SYS/PERM");

    /// <summary>RFC 3206 §5: the credentials are at fault.</summary>
    public static readonly Pop3ResponseCode Auth = new("AUTH");

    /// <summary>True for this code or one of its sub-codes (<c>SYS</c> matches <c>SYS/TEMP</c>).</summary>
    public bool Is(Pop3ResponseCode other) =>
        Value is not null && other.Value is not null &&
        (Value.Equals(other.Value, StringComparison.OrdinalIgnoreCase) ||
         (Value.Length > other.Value.Length && Value[other.Value.Length] == '/' &&
          Value.StartsWith(other.Value, StringComparison.OrdinalIgnoreCase)));

    /// <inheritdoc/>
    public override string ToString() => Value ?? string.Empty;
}
