using Azure.Core;
using Azure.Core.Pipeline;
using Pop3Ingest.Ingestion.Azure;

namespace Pop3Ingest.Ingestion.Tests.Azure;

/// <summary>
/// The Shared Key string-to-sign against the examples of https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key,
/// and signatures against HMAC-SHA256 vectors computed independently with
/// <c>openssl dgst -sha256 -mac HMAC -macopt hexkey:...</c> over the same strings with Azurite's published key.
/// </summary>
public sealed class SharedKeyPolicyTests
{
    private static readonly byte[] s_key = Convert.FromBase64String(StorageConnectionString.DevelopmentAccountKey);

    private static Request NewRequest(RequestMethod method, string uri)
    {
        var request = HttpClientTransport.Shared.CreateRequest();
        request.Method = method;
        request.Uri.Reset(new Uri(uri));
        return request;
    }

    [Fact]
    public void The_specifications_get_container_metadata_example_signs_as_documented()
    {
        // The specification's example: a path-style (emulator) URL, so the account appears twice in the resource.
        using var request = NewRequest(RequestMethod.Get, "http://127.0.0.1:10000/myaccount/mycontainer?restype=container&comp=metadata&timeout=20");
        request.Headers.Add("x-ms-version", "2009-09-19");
        request.Headers.Add("x-ms-date", "Sun, 11 Oct 2009 21:49:13 GMT");

        var stringToSign = SharedKeyPolicy.StringToSign(request, "myaccount");

        Assert.Equal(
            "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Sun, 11 Oct 2009 21:49:13 GMT\nx-ms-version:2009-09-19\n" +
            "/myaccount/myaccount/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20",
            stringToSign);
        Assert.Equal("Su5rvibNeMxB7A4I87rOtEgCDtdICsL8v5H+yJs0W+M=", SharedKeyPolicy.Sign(stringToSign, s_key));
    }

    [Fact]
    public void A_put_signs_length_type_condition_and_sorted_lower_case_headers()
    {
        using var request = NewRequest(RequestMethod.Put, "http://127.0.0.1:10000/devstoreaccount1/mycontainer/my%20blob.txt");
        request.Headers.Add("X-MS-Version", "2015-02-21");
        request.Headers.Add("x-ms-meta-a", "  1 ");
        request.Headers.Add("x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT");
        request.Headers.Add("x-ms-blob-type", "BlockBlob");
        request.Headers.Add("Content-Type", "text/plain; charset=UTF-8");
        request.Headers.Add("If-None-Match", "*");
        request.Content = RequestContent.Create(new byte[11]);

        var stringToSign = SharedKeyPolicy.StringToSign(request, "devstoreaccount1");

        Assert.Equal(
            "PUT\n\n\n11\n\ntext/plain; charset=UTF-8\n\n\n\n*\n\n\n" +
            "x-ms-blob-type:BlockBlob\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-meta-a:1\nx-ms-version:2015-02-21\n" +
            "/devstoreaccount1/devstoreaccount1/mycontainer/my%20blob.txt",
            stringToSign);
        Assert.Equal("REo1UiHWU4GcdTG6VdGwmaXNjcPWXIHUbJZX20abvNc=", SharedKeyPolicy.Sign(stringToSign, s_key));
    }

    [Fact]
    public void Query_parameters_are_lower_cased_sorted_decoded_and_repeated_values_joined()
    {
        // The specification's List Blobs example.
        using var request = NewRequest(RequestMethod.Get,
            "https://myaccount.blob.core.windows.net/mycontainer?restype=container&comp=list&include=snapshots&include=metadata&include=uncommittedblobs");
        Assert.EndsWith("\n/myaccount/mycontainer\ncomp:list\ninclude:metadata,snapshots,uncommittedblobs\nrestype:container",
            SharedKeyPolicy.StringToSign(request, "myaccount"), StringComparison.Ordinal);

        using var block = NewRequest(RequestMethod.Put, "https://myaccount.blob.core.windows.net/c/b?COMP=block&blockid=YWJj%2BZA%3D%3D");
        Assert.EndsWith("\n/myaccount/c/b\nblockid:YWJj+ZA==\ncomp:block", SharedKeyPolicy.StringToSign(block, "myaccount"), StringComparison.Ordinal);
    }

    [Fact]
    public void Zero_content_length_signs_as_empty()
    {
        using var request = NewRequest(RequestMethod.Put, "https://myaccount.queue.core.windows.net/q");
        request.Content = RequestContent.Create(Array.Empty<byte>());
        Assert.StartsWith("PUT\n\n\n\n", SharedKeyPolicy.StringToSign(request, "myaccount"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_policy_dates_and_authorizes_each_attempt()
    {
        var time = new FixedTime(new DateTimeOffset(2009, 10, 11, 21, 49, 13, TimeSpan.Zero));
        var policy = new SharedKeyPolicy("myaccount", s_key, time);
        var request = NewRequest(RequestMethod.Get, "http://127.0.0.1:10000/myaccount/mycontainer?restype=container&comp=metadata&timeout=20");
        request.Headers.Add("x-ms-version", "2009-09-19");
        using var message = new HttpMessage(request, new ResponseClassifier());

        policy.OnSendingRequest(message);

        Assert.True(request.Headers.TryGetValue("x-ms-date", out var date));
        Assert.Equal("Sun, 11 Oct 2009 21:49:13 GMT", date);
        Assert.True(request.Headers.TryGetValue("Authorization", out var authorization));
        Assert.Equal("SharedKey myaccount:Su5rvibNeMxB7A4I87rOtEgCDtdICsL8v5H+yJs0W+M=", authorization);

        // A retry re-signs with a new date instead of adding a second header.
        time.Now = time.Now.AddSeconds(5);
        policy.OnSendingRequest(message);
        Assert.True(request.Headers.TryGetValues("x-ms-date", out var dates));
        Assert.Equal(["Sun, 11 Oct 2009 21:49:18 GMT"], dates);
        Assert.True(request.Headers.TryGetValue("Authorization", out var again));
        Assert.NotEqual(authorization, again);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
