using System.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// The Kubernetes manifests, the systemd unit and the image's build context, checked with the tools their users run:
/// every manifest parses, every kustomization renders with <c>kubectl kustomize</c>, and the unit passes
/// <c>systemd-analyze verify</c> (both installed by the test command; a missing tool fails).
/// </summary>
public sealed class DeployManifestTests
{
    private static readonly string s_root = RepositoryRoot();

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

    public static TheoryData<string> Manifests() =>
        [.. Directory.EnumerateFiles(Path.Combine(s_root, "deploy", "k8s"), "*.yaml", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(s_root, f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Every_manifest_parses_and_names_its_kind(string relativePath)
    {
        var documents = Load(File.ReadAllText(Path.Combine(s_root, relativePath)));
        Assert.NotEmpty(documents);
        foreach (var document in documents)
        {
            Assert.False(string.IsNullOrEmpty(Scalar(document, "apiVersion")), $"{relativePath}: no apiVersion");
            Assert.False(string.IsNullOrEmpty(Scalar(document, "kind")), $"{relativePath}: no kind");
            if (Scalar(document, "kind") != "Kustomization")
            {
                Assert.False(string.IsNullOrEmpty(Scalar(document, "metadata", "name")), $"{relativePath}: no metadata.name");
            }
        }
    }

    [Theory]
    [InlineData("single", new[] { "ConfigMap", "Deployment", "PersistentVolumeClaim", "Secret", "Service" })]
    [InlineData("clustered", new[] { "ConfigMap", "Deployment", "NetworkPolicy", "PodDisruptionBudget", "Secret", "Service", "ServiceAccount", "ServiceMonitor" })]
    public async Task Each_kustomization_renders_with_kubectl_and_its_service_reaches_the_pods(string variant, string[] kinds)
    {
        var (exitCode, output, error) = await RunAsync("kubectl", "kustomize", Path.Combine(s_root, "deploy", "k8s", variant));
        Assert.True(exitCode == 0, $"kubectl kustomize {variant} failed: {error}");
        var documents = Load(output);
        Assert.Equal(kinds, documents.Select(d => Scalar(d, "kind")!).Order(StringComparer.Ordinal));

        // The Service selects the Deployment's pods and targets the port the worker serves /metrics on.
        var deployment = documents.Single(d => Scalar(d, "kind") == "Deployment");
        var service = documents.Single(d => Scalar(d, "kind") == "Service");
        var podLabels = Mapping(deployment, "spec", "template", "metadata", "labels");
        foreach (var (key, value) in Mapping(service, "spec", "selector"))
        {
            Assert.True(podLabels.TryGetValue(key, out var label) && label == value, $"{variant}: the Service selects {key}={value}, which the pods do not carry");
        }

        var servicePort = (YamlMappingNode)((YamlSequenceNode)Node(service, "spec", "ports")!).Children[0];
        Assert.Equal("http", ((YamlScalarNode)servicePort.Children[new YamlScalarNode("targetPort")]).Value);
        Assert.Contains("name: http, containerPort: 8080", File.ReadAllText(Path.Combine(s_root, "deploy", "k8s", variant, "deployment.yaml")), StringComparison.Ordinal);

        if (variant == "clustered")
        {
            var monitor = documents.Single(d => Scalar(d, "kind") == "ServiceMonitor");
            Assert.Equal(Mapping(service, "metadata", "labels"), Mapping(monitor, "spec", "selector", "matchLabels"));
            var policy = documents.Single(d => Scalar(d, "kind") == "NetworkPolicy");
            Assert.Equal(Mapping(deployment, "spec", "selector", "matchLabels"), Mapping(policy, "spec", "podSelector", "matchLabels"));
        }
    }

    [Fact]
    public async Task The_systemd_unit_verifies_and_is_hardened()
    {
        var unit = File.ReadAllText(Path.Combine(s_root, "deploy", "systemd", "pop3ingest.service"));
        foreach (var directive in new[]
                 {
                     "Type=notify", "User=pop3ingest", "ProtectSystem=strict", "PrivateTmp=yes", "ReadWritePaths=/var/lib/pop3ingest",
                     "NoNewPrivileges=yes", "LoadCredential=pop3-password:", "PasswordFile=%d/pop3-password",
                 })
        {
            Assert.Contains(directive, unit, StringComparison.Ordinal);
        }

        // systemd-analyze verify checks that ExecStart's program exists: the binary is installed by the operator, so
        // the copy verified runs an executable this machine has; every other line is verified as shipped.
        var folder = Directory.CreateTempSubdirectory("p3i-unit-").FullName;
        try
        {
            var path = Path.Combine(folder, "pop3ingest.service");
            await File.WriteAllTextAsync(path, unit.Replace("/opt/pop3ingest/Pop3Ingest.Worker", "/usr/bin/true", StringComparison.Ordinal));
            var (exitCode, output, error) = await RunAsync("systemd-analyze", "verify", path);
            Assert.True(exitCode == 0, $"systemd-analyze verify failed: {error}");

            // It exits 0 even for lines it ignores: any diagnostic about the unit is a failure.
            Assert.DoesNotContain("pop3ingest.service", error + output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_image_build_context_leaves_out_build_output_and_local_state()
    {
        var ignored = File.ReadAllLines(Path.Combine(s_root, ".dockerignore")).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        foreach (var pattern in new[] { "**/bin/", "**/obj/", "data/", ".git/" })
        {
            Assert.Contains(pattern, ignored);
        }

        // deploy/compose.yaml builds from the repository root, where .dockerignore must be.
        Assert.Contains("context: ..", File.ReadAllText(Path.Combine(s_root, "deploy", "compose.yaml")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_quick_start_installs_only_what_the_demo_needs()
    {
        var quickStart = File.ReadAllText(Path.Combine(s_root, "deploy", "local", "quickstart.sh"));
        Assert.Contains("bash deploy/local/install-demo-deps.sh", quickStart, StringComparison.Ordinal);
        Assert.DoesNotContain("install-test-deps", quickStart, StringComparison.Ordinal);
        var demoDeps = File.ReadAllText(Path.Combine(s_root, "deploy", "local", "install-demo-deps.sh"));
        Assert.Contains("PACKAGES=(dovecot-core dovecot-pop3d openssl)", demoDeps, StringComparison.Ordinal);
    }

    private static List<YamlMappingNode> Load(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return [.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>()];
    }

    private static YamlNode? Node(YamlMappingNode root, params string[] path)
    {
        YamlNode? node = root;
        foreach (var key in path)
        {
            node = node is YamlMappingNode mapping && mapping.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;
        }

        return node;
    }

    private static string? Scalar(YamlMappingNode root, params string[] path) => (Node(root, path) as YamlScalarNode)?.Value;

    private static Dictionary<string, string?> Mapping(YamlMappingNode root, params string[] path) =>
        (Node(root, path) as YamlMappingNode)?.Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => (c.Value as YamlScalarNode)?.Value) ?? [];

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await output, await error);
    }
}
