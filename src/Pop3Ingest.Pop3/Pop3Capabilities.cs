using System.Collections.Frozen;

namespace Pop3Ingest.Pop3;

/// <summary>What a server supports: flags plus the values some capabilities carry.</summary>
public sealed class Pop3Capabilities
{
    internal static readonly Pop3Capabilities Empty = new(Pop3CapabilityFlags.None, [], null, null, null, []);

    internal Pop3Capabilities(
        Pop3CapabilityFlags flags,
        IReadOnlyCollection<string> saslMechanisms,
        TimeSpan? loginDelay,
        string? expire,
        string? implementation,
        IReadOnlyList<string> lines)
    {
        Flags = flags;
        SaslMechanisms = saslMechanisms.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        LoginDelay = loginDelay;
        Expire = expire;
        Implementation = implementation;
        Lines = lines;
    }

    /// <summary>The capabilities as flags.</summary>
    public Pop3CapabilityFlags Flags { get; }

    /// <summary>SASL mechanisms offered (upper case as sent), empty when SASL is not advertised.</summary>
    public FrozenSet<string> SaslMechanisms { get; }

    /// <summary>The minimum time between logins (LOGIN-DELAY), when advertised.</summary>
    public TimeSpan? LoginDelay { get; }

    /// <summary>The EXPIRE value (days, or NEVER), when advertised.</summary>
    public string? Expire { get; }

    /// <summary>The IMPLEMENTATION text, when advertised.</summary>
    public string? Implementation { get; }

    /// <summary>The CAPA listing as received (empty when CAPA was refused).</summary>
    public IReadOnlyList<string> Lines { get; }

    /// <summary>True when every flag in <paramref name="flags"/> is present.</summary>
    public bool Has(Pop3CapabilityFlags flags) => (Flags & flags) == flags;

    /// <summary>True when SASL offers the mechanism.</summary>
    public bool SupportsSasl(string mechanism) => SaslMechanisms.Contains(mechanism);

    internal Pop3Capabilities WithFlags(Pop3CapabilityFlags add) =>
        new(Flags | add, SaslMechanisms, LoginDelay, Expire, Implementation, Lines);

    /// <inheritdoc/>
    public override string ToString() => Flags.ToString();
}
