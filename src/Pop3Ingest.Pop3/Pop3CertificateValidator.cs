using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Pop3Ingest.Pop3;

/// <summary>
/// Decides whether the server's certificate is trusted: by the system's roots (default), by an operator's CA
/// file (chain to those roots, name still checked), or by a SHA-256 pin (exactly that certificate).
/// </summary>
internal sealed class Pop3CertificateValidator
{
    private readonly string? _pin;
    private readonly string? _caFile;

    public Pop3CertificateValidator(string? certificateSha256, string? caFile)
    {
        _pin = certificateSha256 is null ? null : NormalizeFingerprint(certificateSha256);
        _caFile = caFile;
    }

    /// <summary>Why the last validation failed, in words an operator can act on.</summary>
    public string? Failure { get; private set; }

    public static string NormalizeFingerprint(string fingerprint) =>
        fingerprint.Replace(":", string.Empty, StringComparison.Ordinal)
            .Replace(" ", string.Empty, StringComparison.Ordinal)
            .Replace("-", string.Empty, StringComparison.Ordinal)
            .ToLowerInvariant();

    public static string Fingerprint(X509Certificate certificate) =>
        Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData()));

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            Failure = "the server sent no certificate";
            return false;
        }

        if (_pin is not null)
        {
            var actual = Fingerprint(certificate);
            if (CryptographicOperations.FixedTimeEquals(
                    System.Text.Encoding.ASCII.GetBytes(actual), System.Text.Encoding.ASCII.GetBytes(_pin)))
            {
                return true;
            }

            Failure = $"the certificate's SHA-256 fingerprint {actual} does not match the pinned one";
            return false;
        }

        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (_caFile is not null && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None)
        {
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            custom.ChainPolicy.CustomTrustStore.ImportFromPemFile(_caFile);
            if (chain is not null)
            {
                foreach (var element in chain.ChainElements.Skip(1))
                {
                    custom.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }

            using var leaf = new X509Certificate2(certificate);
            if (custom.Build(leaf))
            {
                return true;
            }

            Failure = "the certificate does not chain to the configured CA file: " +
                string.Join("; ", custom.ChainStatus.Select(s => s.StatusInformation.Trim()));
            return false;
        }

        Failure = errors switch
        {
            _ when errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) =>
                "the certificate does not match the host name (set the name the certificate carries as Host, or pin it)",
            _ when errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors) =>
                "the certificate is not trusted (" + ChainText(chain) + "); trust its CA with CaFile or pin it with CertificateSha256",
            _ => "the certificate was refused: " + errors,
        };
        return false;
    }

    private static string ChainText(X509Chain? chain) =>
        chain is null || chain.ChainStatus.Length == 0
            ? "no chain"
            : string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Distinct(StringComparer.Ordinal));
}
