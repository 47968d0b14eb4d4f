using Pop3Ingest.Mime.Tests.Support;

namespace Pop3Ingest.Mime.Tests;

/// <summary>Chunk boundaries must not matter: every fixture, whole and split anywhere, gives one result.</summary>
public sealed class SplitTests
{
    [Theory]
    [MemberData(nameof(Fixture.All), MemberType = typeof(Fixture))]
    public void Every_split_into_two_writes_gives_the_whole_result(string name)
    {
        var data = Fixture.Bytes(name);
        var options = Fixture.OptionsFor(name);
        var whole = Fixture.Canonical(MessageMetadataReader.Read(data, options));

        for (var split = 0; split <= data.Length; split++)
        {
            var reader = new MessageMetadataReader(options);
            reader.Write(data.AsSpan(0, split));
            reader.Write(data.AsSpan(split));
            var result = Fixture.Canonical(reader.Complete());
            if (result != whole)
            {
                Assert.Fail($"{name} split at {split} of {data.Length}:\nwhole: {whole}\nsplit: {result}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Fixture.All), MemberType = typeof(Fixture))]
    public void One_byte_at_a_time_gives_the_whole_result(string name)
    {
        var data = Fixture.Bytes(name);
        var options = Fixture.OptionsFor(name);
        var whole = Fixture.Canonical(MessageMetadataReader.Read(data, options));

        var reader = new MessageMetadataReader(options);
        for (var i = 0; i < data.Length; i++)
        {
            reader.Write(data.AsSpan(i, 1));
        }

        Assert.Equal(whole, Fixture.Canonical(reader.Complete()));
    }

    [Theory]
    [MemberData(nameof(Fixture.All), MemberType = typeof(Fixture))]
    public void Empty_writes_change_nothing(string name)
    {
        var data = Fixture.Bytes(name);
        var options = Fixture.OptionsFor(name);
        var whole = Fixture.Canonical(MessageMetadataReader.Read(data, options));

        var reader = new MessageMetadataReader(options);
        reader.Write([]);
        for (var i = 0; i < data.Length; i += 7)
        {
            reader.Write(data.AsSpan(i, Math.Min(7, data.Length - i)));
            reader.Write([]);
        }

        Assert.Equal(whole, Fixture.Canonical(reader.Complete()));
    }
}
