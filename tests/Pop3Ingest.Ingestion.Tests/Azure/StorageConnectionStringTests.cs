using Pop3Ingest.Ingestion.Azure;

namespace Pop3Ingest.Ingestion.Tests.Azure;

public sealed class StorageConnectionStringTests
{
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private const string Sas = "sv=2021-12-02&ss=bq&srt=sco&sp=rwdlacup&se=2030-01-01T00:00:00Z&spr=https&sig=c2VjcmV0c2lnbmF0dXJl%3D";

    [Fact]
    public void Account_key_with_standard_endpoints()
    {
        var parsed = StorageConnectionString.Parse($"DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey={Key};EndpointSuffix=core.windows.net");
        Assert.Equal(new Uri("https://myaccount.blob.core.windows.net"), parsed.BlobEndpoint);
        Assert.Equal(new Uri("https://myaccount.queue.core.windows.net"), parsed.QueueEndpoint);
        Assert.Equal("myaccount", parsed.AccountName);
        Assert.Equal(Convert.FromBase64String(Key), parsed.AccountKey);
        Assert.Null(parsed.SharedAccessSignature);
        Assert.Equal("account key", StorageEndpoint.Blob(parsed).Credential.Kind);
    }

    [Fact]
    public void Defaults_are_https_and_core_windows_net_and_other_clouds_take_a_suffix()
    {
        Assert.Equal(new Uri("https://acct.blob.core.windows.net"), StorageConnectionString.Parse($"AccountName=acct;AccountKey={Key}").BlobEndpoint);
        Assert.Equal(new Uri("http://acct.queue.core.chinacloudapi.cn"),
            StorageConnectionString.Parse($"defaultendpointsprotocol=http;accountname=acct;accountkey={Key};endpointsuffix=core.chinacloudapi.cn;").QueueEndpoint);
    }

    [Fact]
    public void Account_key_with_explicit_endpoints_as_for_azurite_on_other_ports()
    {
        var parsed = StorageConnectionString.Parse(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={Key};" +
            "BlobEndpoint=http://127.0.0.1:41000/devstoreaccount1/;QueueEndpoint=http://127.0.0.1:41001/devstoreaccount1;TableEndpoint=http://127.0.0.1:41002/devstoreaccount1;");
        Assert.Equal(new Uri("http://127.0.0.1:41000/devstoreaccount1"), parsed.BlobEndpoint);
        Assert.Equal(new Uri("http://127.0.0.1:41001/devstoreaccount1"), parsed.QueueEndpoint);
        Assert.Equal("http://127.0.0.1:41000/devstoreaccount1", parsed.BlobEndpoint!.AbsoluteUri);
    }

    [Fact]
    public void Sas_with_explicit_endpoints_or_an_account_name()
    {
        var parsed = StorageConnectionString.Parse($"BlobEndpoint=https://acct.blob.core.windows.net/;QueueEndpoint=https://acct.queue.core.windows.net/;FileEndpoint=https://acct.file.core.windows.net/;SharedAccessSignature=?{Sas}");
        Assert.Equal(Sas, parsed.SharedAccessSignature);
        Assert.Null(parsed.AccountKey);
        Assert.Null(parsed.AccountName);
        Assert.Equal("SAS", StorageEndpoint.Queue(parsed).Credential.Kind);

        var byName = StorageConnectionString.Parse($"AccountName=acct;SharedAccessSignature={Sas}");
        Assert.Equal(new Uri("https://acct.blob.core.windows.net"), byName.BlobEndpoint);
    }

    [Fact]
    public void Development_storage_means_azurite_on_its_standard_ports()
    {
        var parsed = StorageConnectionString.Parse("UseDevelopmentStorage=true");
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), parsed.BlobEndpoint);
        Assert.Equal(new Uri("http://127.0.0.1:10001/devstoreaccount1"), parsed.QueueEndpoint);
        Assert.Equal("devstoreaccount1", parsed.AccountName);
        Assert.Equal(Convert.FromBase64String(Key), parsed.AccountKey);

        var proxied = StorageConnectionString.Parse("UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://azurite");
        Assert.Equal(new Uri("http://azurite:10000/devstoreaccount1"), proxied.BlobEndpoint);
    }

    [Theory]
    [InlineData("UseDevelopmentStorage=false", "UseDevelopmentStorage")]
    [InlineData("UseDevelopmentStorage=true;AccountName=devstoreaccount1", "AccountName")]
    [InlineData("AccountName=acct;AccountKey=not base64!", "AccountKey")]
    [InlineData("AccountKey=" + Key, "AccountKey needs AccountName")]
    [InlineData("AccountName=acct;AccountKey=" + Key + ";SharedAccessSignature=" + Sas, "not both")]
    [InlineData("AccountName=acct", "no credentials")]
    [InlineData("AccountName=Has_Upper;AccountKey=" + Key, "AccountName")]
    [InlineData("AccountName=acct;AccountKey=" + Key + ";AccountKye=x", "AccountKye")]
    [InlineData("AccountName=acct;AccountKey=" + Key + ";AccountName=other", "AccountName appears more than once")]
    [InlineData("AccountName=acct;AccountKey=" + Key + ";DefaultEndpointsProtocol=ftp", "DefaultEndpointsProtocol")]
    [InlineData("AccountName=acct;AccountKey=" + Key + ";BlobEndpoint=blob.example.org", "BlobEndpoint")]
    [InlineData("AccountName=acct;AccountKey=" + Key + ";QueueEndpoint=https://q.example.org/?sv=1", "QueueEndpoint")]
    [InlineData("AccountName=acct;AccountKey=" + Key + ";EndpointSuffix=https://x", "EndpointSuffix")]
    [InlineData("SharedAccessSignature=sv=2021-12-02&sp=r", "SharedAccessSignature")]
    [InlineData("SharedAccessSignature=" + Sas, "no endpoint")]
    [InlineData(";;", "empty")]
    [InlineData("AccountName=acct;" + Key, "part 2")]
    public void Errors_name_the_key_and_never_echo_a_secret(string connectionString, string expected)
    {
        var error = Assert.Throws<FormatException>(() => StorageConnectionString.Parse(connectionString));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Key[..12], error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0c2lnbmF0dXJl", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_endpoint_the_service_needs_must_be_there()
    {
        var blobOnly = StorageConnectionString.Parse($"BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature={Sas}");
        Assert.NotNull(StorageEndpoint.Blob(blobOnly));
        var error = Assert.Throws<FormatException>(() => StorageEndpoint.Queue(blobOnly));
        Assert.Contains("QueueEndpoint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Redact_hides_keys_and_signatures()
    {
        var text = $"AccountName=acct;AccountKey={Key};x https://a/b?sv=1&sig=abc%2Bdef&se=2 SharedAccessSignature={Sas}";
        var redacted = StorageConnectionString.Redact(text);
        Assert.DoesNotContain(Key[..12], redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("abc%2Bdef", redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0c2lnbmF0dXJl", redacted, StringComparison.Ordinal);
        Assert.Contains("AccountKey=***", redacted, StringComparison.Ordinal);
        Assert.Contains("sig=***&se=2", redacted, StringComparison.Ordinal);
        Assert.Contains("AccountName=acct", redacted, StringComparison.Ordinal);
    }
}
