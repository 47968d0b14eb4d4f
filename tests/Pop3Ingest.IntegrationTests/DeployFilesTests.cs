using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.IntegrationTests;

/// <summary>What can be checked of deploy/ without a container engine.</summary>
public sealed partial class DeployFilesTests
{
    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Pop3Ingest.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (Pop3Ingest.sln) was not found above the test binaries.");
    }

    private static List<string> Validate(string json)
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
        var configuration = new ConfigurationBuilder().AddJsonStream(stream).Build();
        var options = new Pop3IngestOptions();
        configuration.GetSection("Pop3Ingest").Bind(options);
        OptionsSetup.Apply(options, configuration, "/config");
        var result = new Pop3IngestOptionsValidator(configuration).Validate(null, options);

        // Secret files are mounted only in the cluster.
        return result.Failed ? [.. result.Failures!.Where(f => !f.Contains("does not exist", StringComparison.Ordinal))] : [];
    }

    public static TheoryData<string> ConfigMaps() =>
        [.. Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), "deploy", "k8s"), "*.yaml", SearchOption.AllDirectories)
            .Where(f => File.ReadAllText(f).Contains("appsettings.json: |", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(RepositoryRoot(), f))];

    [Theory]
    [MemberData(nameof(ConfigMaps))]
    public void Every_configmap_holds_a_valid_configuration(string relativePath)
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot(), relativePath));
        var match = EmbeddedJson().Match(text);
        Assert.True(match.Success, $"{relativePath} has no appsettings.json block");
        var json = string.Join('\n', match.Groups["body"].Value.Split('\n').Select(l => l.Length >= 4 ? l[4..] : l.Trim()));
        Assert.Empty(Validate(json));
    }

    public static TheoryData<string> ConfigurationFiles() =>
        [.. Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), "deploy"), "appsettings.json", SearchOption.AllDirectories)
            .Append(Path.Combine(RepositoryRoot(), "appsettings.json"))
            .Select(f => Path.GetRelativePath(RepositoryRoot(), f))];

    [Theory]
    [MemberData(nameof(ConfigurationFiles))]
    public void Every_shipped_configuration_file_is_valid(string relativePath) =>
        Assert.Empty(Validate(File.ReadAllText(Path.Combine(RepositoryRoot(), relativePath))));

    [Fact]
    public void The_compose_file_mounts_files_that_exist()
    {
        var root = RepositoryRoot();
        var compose = File.ReadAllText(Path.Combine(root, "deploy", "compose.yaml"));
        foreach (Match mount in ComposeMount().Matches(compose))
        {
            Assert.True(File.Exists(Path.Combine(root, "deploy", mount.Groups["source"].Value)), $"compose.yaml mounts {mount.Groups["source"].Value}, which does not exist");
        }

        Assert.Contains("dockerfile: deploy/Dockerfile", compose, StringComparison.Ordinal);
    }

    [Fact]
    public void The_image_configuration_is_valid_and_the_dockerfile_names_real_files()
    {
        var root = RepositoryRoot();
        Assert.Empty(Validate(File.ReadAllText(Path.Combine(root, "deploy", "docker", "appsettings.json"))));
        var dockerfile = File.ReadAllText(Path.Combine(root, "deploy", "Dockerfile"));
        foreach (Match copy in CopyLine().Matches(dockerfile))
        {
            Assert.True(File.Exists(Path.Combine(root, copy.Groups["source"].Value)) || Directory.Exists(Path.Combine(root, copy.Groups["source"].Value)),
                $"the Dockerfile copies {copy.Groups["source"].Value}, which does not exist");
        }

        // The native (AOT) executable on runtime-deps; the test command and the benchmark build and run the same.
        Assert.Contains("ENTRYPOINT [\"/app/Pop3Ingest.Worker\"]", dockerfile, StringComparison.Ordinal);
        Assert.Contains("-p:PublishAot=true", dockerfile, StringComparison.Ordinal);
        Assert.Contains("clang zlib1g-dev", dockerfile, StringComparison.Ordinal);
        Assert.Contains("FROM mcr.microsoft.com/dotnet/runtime-deps:10.0", dockerfile, StringComparison.Ordinal);
        var testCommand = File.ReadAllText(Path.Combine(root, "deploy", "local", "test.sh"));
        Assert.Contains("-p:PublishAot=true", testCommand, StringComparison.Ordinal);
        Assert.Contains("POP3INGEST_WORKER_BINARY=", testCommand, StringComparison.Ordinal);
        Assert.Contains("\"-p:PublishAot=true\"", File.ReadAllText(Path.Combine(root, "tests", "Pop3Ingest.Benchmarks", "Common", "WorkerBinary.cs")), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "Pop3Ingest.Worker.dll")));
        Assert.Contains("USER app", dockerfile, StringComparison.Ordinal);
    }

    [Fact]
    public void The_clustered_variant_runs_several_stateless_replicas_on_postgres()
    {
        var folder = Path.Combine(RepositoryRoot(), "deploy", "k8s", "clustered");
        var deployment = File.ReadAllText(Path.Combine(folder, "deployment.yaml"));
        var replicas = Regex.Match(deployment, @"^  replicas: (?<n>\d+)", RegexOptions.Multiline);
        Assert.True(replicas.Success && int.Parse(replicas.Groups["n"].Value, System.Globalization.CultureInfo.InvariantCulture) > 1, "the clustered Deployment should run more than one replica");
        Assert.DoesNotContain("persistentVolumeClaim", deployment, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(folder, "pvc.yaml")));
        Assert.Contains("secretName: pop3ingest-secrets", deployment, StringComparison.Ordinal);

        var configMap = File.ReadAllText(Path.Combine(folder, "configmap.yaml"));
        Assert.Contains("\"Provider\": \"Postgres\", \"ConnectionStringFile\": \"/secrets/postgres-connection\"", configMap, StringComparison.Ordinal);
        Assert.Contains("\"Clustered\": true", configMap, StringComparison.Ordinal);
        Assert.Contains("postgres-connection:", File.ReadAllText(Path.Combine(folder, "secret.yaml")), StringComparison.Ordinal);

        var kustomization = File.ReadAllText(Path.Combine(folder, "kustomization.yaml"));
        foreach (var resource in Regex.Matches(kustomization, @"^  - (?<file>\S+)$", RegexOptions.Multiline).Select(m => m.Groups["file"].Value))
        {
            Assert.True(File.Exists(Path.Combine(folder, resource)), $"kustomization.yaml lists {resource}, which does not exist");
        }
    }

    [GeneratedRegex(@"appsettings\.json: \|\n(?<body>(?:    .*\n|\s*\n)+)")]
    private static partial Regex EmbeddedJson();

    [GeneratedRegex(@"- \./(?<source>compose/[^:]+):")]
    private static partial Regex ComposeMount();

    [GeneratedRegex(@"^COPY (?!--from)(?<source>\S+) ", RegexOptions.Multiline)]
    private static partial Regex CopyLine();
}
