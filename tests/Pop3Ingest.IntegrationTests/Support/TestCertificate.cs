using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>A self-signed server certificate made at test time (CN=localhost, SAN localhost and 127.0.0.1), as PEM files.</summary>
internal sealed record TestCertificate(string CertificatePemPath, string KeyPemPath, string CombinedPemPath, string Sha256)
{
    /// <summary>Writes cert.pem, key.pem and server.pem (key then certificate, as Courier wants) into <paramref name="directory"/>.</summary>
    public static async Task<TestCertificate> CreateAsync(string directory, CancellationToken cancellationToken)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));

        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        var keyPem = key.ExportPkcs8PrivateKeyPem();
        var certificatePem = certificate.ExportCertificatePem();

        var result = new TestCertificate(
            Path.Combine(directory, "cert.pem"),
            Path.Combine(directory, "key.pem"),
            Path.Combine(directory, "server.pem"),
            Convert.ToHexStringLower(SHA256.HashData(certificate.RawData)));
        await File.WriteAllTextAsync(result.CertificatePemPath, certificatePem + "\n", cancellationToken);
        await File.WriteAllTextAsync(result.KeyPemPath, keyPem + "\n", cancellationToken);
        await File.WriteAllTextAsync(result.CombinedPemPath, keyPem + "\n" + certificatePem + "\n", cancellationToken);
        // BCL calls rather than Posix.SetMode: the benchmark program compiles this file without the test support.
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The test servers run on Linux only.");
        }

        const UnixFileMode ownerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        File.SetUnixFileMode(result.CertificatePemPath, ownerReadWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.SetUnixFileMode(result.KeyPemPath, ownerReadWrite);
        File.SetUnixFileMode(result.CombinedPemPath, ownerReadWrite);
        return result;
    }
}
