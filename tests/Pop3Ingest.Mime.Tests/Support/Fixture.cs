using System.Text.Encodings.Web;
using System.Text.Json;

namespace Pop3Ingest.Mime.Tests.Support;

/// <summary>Loads the .eml fixtures and reads them with the options each one is about.</summary>
internal static class Fixture
{
    private static readonly JsonSerializerOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static IEnumerable<string> Names =>
        System.IO.Directory.GetFiles(Directory, "*.eml").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    public static TheoryData<string> All
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var name in Names)
            {
                data.Add(name);
            }

            return data;
        }
    }

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(Directory, name));

    /// <summary>The limit fixtures are about small limits; the others use the defaults.</summary>
    public static MimeReaderOptions OptionsFor(string name) => name switch
    {
        "limits-depth.eml" => new MimeReaderOptions { MaxDepth = 3 },
        "limits-parts.eml" => new MimeReaderOptions { MaxParts = 5 },
        "limits-header.eml" => new MimeReaderOptions { MaxHeaderBytes = 200 },
        "limits-boundary.eml" => new MimeReaderOptions { MaxBoundaryLength = 70 },
        _ => MimeReaderOptions.Default,
    };

    public static MessageMetadata Read(string name) => MessageMetadataReader.Read(Bytes(name), OptionsFor(name));

    /// <summary>A canonical text form, to compare results whose lists are not comparable by reference.</summary>
    public static string Canonical(MessageMetadata metadata) => JsonSerializer.Serialize(metadata, s_json);

    /// <summary>Reads <paramref name="data"/> fed in the given chunk lengths (the last chunk takes the rest).</summary>
    public static MessageMetadata ReadInChunks(ReadOnlySpan<byte> data, MimeReaderOptions options, IEnumerable<int> lengths)
    {
        var reader = new MessageMetadataReader(options);
        foreach (var length in lengths)
        {
            var take = Math.Min(length, data.Length);
            reader.Write(data[..take]);
            data = data[take..];
        }

        reader.Write(data);
        return reader.Complete();
    }
}
