using System.Text.Json;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Streams;
using FaasEvents.Server.Scaling;
using FaasEvents.TestSupport;
using NJsonSchema;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace FaasEvents.Infra.Tests;

/// <summary>infra/k8s: every manifest parses, Kustomize references resolve, ScaledObjects satisfy KEDA's CRD schema and the scaler's metadata parser.</summary>
public class KubernetesManifestTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly string Root = AzuriteProcess.FindRepositoryRoot()!;
    private static readonly string K8s = Path.Combine(Root, "infra", "k8s");
    private static readonly IDeserializer Yaml = new DeserializerBuilder().WithAttemptingUnquotedStringTypeDeserialization().Build();

    private static List<Dictionary<object, object>> Documents(string path) => Parse(File.ReadAllText(path));

    internal static List<Dictionary<object, object>> Parse(string yaml)
    {
        var docs = new List<Dictionary<object, object>>();
        var parser = new Parser(new StringReader(yaml));
        parser.Consume<YamlDotNet.Core.Events.StreamStart>();
        while (parser.Accept<YamlDotNet.Core.Events.DocumentStart>(out _))
        {
            if (Yaml.Deserialize(parser) is Dictionary<object, object> doc)
            {
                docs.Add(doc);
            }
        }

        return docs;
    }

    private static IEnumerable<string> ManifestFiles() =>
        Directory.EnumerateFiles(K8s, "*.yaml", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}schemas{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    private static IEnumerable<Dictionary<object, object>> ScaledObjects() =>
        ManifestFiles().SelectMany(Documents).Where(d => d.TryGetValue("kind", out object? k) && (string)k == "ScaledObject");

    [Fact]
    public void Every_manifest_parses_and_every_kustomization_reference_exists()
    {
        int files = 0;
        foreach (string file in ManifestFiles())
        {
            List<Dictionary<object, object>> docs = Documents(file); // throws on invalid YAML
            Assert.NotEmpty(docs);
            files++;
            if (Path.GetFileName(file) == "kustomization.yaml")
            {
                Dictionary<object, object> k = docs[0];
                foreach (string key in new[] { "resources", "components" })
                {
                    foreach (object r in k.TryGetValue(key, out object? list) ? (List<object>)list : [])
                    {
                        string target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, (string)r));
                        Assert.True(File.Exists(target) || Directory.Exists(target), $"{file}: {key} '{r}' does not exist");
                    }
                }

                foreach (object p in k.TryGetValue("patches", out object? patches) ? (List<object>)patches : [])
                {
                    if (((Dictionary<object, object>)p).TryGetValue("path", out object? path))
                    {
                        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(file)!, (string)path)), $"{file}: patch '{path}' does not exist");
                    }
                }
            }
            else
            {
                Assert.All(docs.Where(d => !d.ContainsKey("op")), d => Assert.True(d.ContainsKey("kind") && d.ContainsKey("apiVersion"), $"{file}: a document without kind/apiVersion"));
            }
        }

        Assert.True(files >= 10);
    }

    internal static async Task<JsonSchema> ScaledObjectSchemaAsync()
    {
        Dictionary<object, object> crd = Documents(Path.Combine(K8s, "schemas", "keda.sh_scaledobjects.yaml")).Single();
        var version = ((List<object>)((Dictionary<object, object>)crd["spec"])["versions"]).Cast<Dictionary<object, object>>().Single(v => (string)v["name"] == "v1alpha1");
        object openApi = ((Dictionary<object, object>)version["schema"])["openAPIV3Schema"];
        return await JsonSchema.FromJsonAsync(JsonSerializer.Serialize(openApi));
    }

    [Fact]
    public async Task Every_scaled_object_is_valid_against_kedas_crd_schema()
    {
        JsonSchema schema = await ScaledObjectSchemaAsync();

        List<Dictionary<object, object>> objects = ScaledObjects().ToList();
        Assert.Equal(10, objects.Count); // one per sample function
        foreach (Dictionary<object, object> so in objects)
        {
            ICollection<NJsonSchema.Validation.ValidationError> errors = schema.Validate(JsonSerializer.Serialize(so));
            Assert.True(errors.Count == 0, $"{((Dictionary<object, object>)so["metadata"])["name"]}: {string.Join("; ", errors)}");
        }

        // The check has teeth: a ScaledObject without triggers, or with a string maxReplicaCount, fails.
        Assert.NotEmpty(schema.Validate("""{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","spec":{"scaleTargetRef":{"name":"x"}}}"""));
        Assert.NotEmpty(schema.Validate("""{"spec":{"scaleTargetRef":{"name":"x"},"maxReplicaCount":"eight","triggers":[{"type":"external-push","metadata":{}}]}}"""));
    }

    [Fact]
    public void Every_scaled_object_targets_a_generated_deployment_and_its_metadata_parses_with_the_scaler()
    {
        List<Dictionary<object, object>> all = ManifestFiles().SelectMany(Documents).ToList();
        HashSet<string> deployments = all.Where(d => (string)d["kind"] == "Deployment").Select(d => (string)((Dictionary<object, object>)d["metadata"])["name"]).ToHashSet();
        foreach (Dictionary<object, object> so in ScaledObjects())
        {
            var spec = (Dictionary<object, object>)so["spec"];
            string target = (string)((Dictionary<object, object>)spec["scaleTargetRef"])["name"];
            Assert.Contains(target, deployments);
            Assert.Equal(0, Convert.ToInt32(spec["minReplicaCount"], System.Globalization.CultureInfo.InvariantCulture)); // scale to zero
            var trigger = (Dictionary<object, object>)Assert.Single((List<object>)spec["triggers"]);
            Assert.Equal("external-push", trigger["type"]);
            var metadata = ((Dictionary<object, object>)trigger["metadata"]).ToDictionary(kv => (string)kv.Key, kv => Convert.ToString(kv.Value, System.Globalization.CultureInfo.InvariantCulture)!);
            ScalerMetadata parsed = ScalerMetadata.Parse(metadata); // the server would accept exactly this
            Assert.Equal(1000, parsed.LagThreshold);
            bool queue = target.EndsWith("email-sender", StringComparison.Ordinal); // the sample's queue-consumed function
            Assert.Equal(queue, parsed.Queue);
            if (queue)
            {
                Assert.Equal(20, Convert.ToInt32(spec["maxReplicaCount"], System.Globalization.CultureInfo.InvariantCulture)); // past its stream's 4 partitions
            }
        }
    }

    [Fact]
    public async Task Generated_manifests_equal_the_checked_in_ones()
    {
        EventLogClient log = new(azurite.ConnectionString);
        foreach ((string stream, int partitions) in new[] { ("ping", 4), ("orders", 8), ("orders.enriched", 8), ("books", 4), ("stock-movements", 8), ("emails", 4) })
        {
            await log.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = partitions });
        }

        string config = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string faas = Path.Combine(Root, "src", "FaasEvents.Cli", "bin", config, "net10.0", "faas.dll");
        string app = Path.Combine(Root, "functions", "FaasEvents.Samples", "bin", config, "net10.0", "FaasEvents.Samples.dll");
        DotnetRun.Result r = await DotnetRun.RunAsync(faas, ["manifests", "--app-dll", app, "--app", "faas-samples"], new Dictionary<string, string?> { ["FAAS_STORAGE"] = azurite.ConnectionString });
        Assert.True(r.ExitCode == 0, r.Stderr);
        string generated = r.Stdout;
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(K8s, "base", "functions.yaml")), generated); // never drift from code
    }
}
