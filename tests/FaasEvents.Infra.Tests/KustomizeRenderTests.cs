using System.Diagnostics;
using System.Text.Json;
using FaasEvents.DevStorage;
using NJsonSchema;

namespace FaasEvents.Infra.Tests;

/// <summary>
/// Renders the overlays with <c>kubectl kustomize</c> (Kustomize 5, in the project's machine image) and checks the
/// result. Skipped, saying so, where kubectl is not installed.
/// </summary>
public class KustomizeRenderTests
{
    private static readonly string Root = AzuriteProcess.FindRepositoryRoot()!;

    private static async Task<List<Dictionary<object, object>>> RenderAsync(string overlay)
    {
        string? kubectl = AzuriteProcess.FindOnPath("kubectl");
        Skip.If(kubectl is null, "kubectl (with kustomize) is not installed on this machine");
        var psi = new ProcessStartInfo(kubectl!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { "kustomize", Path.Combine(Root, "infra", "k8s", "overlays", overlay) })
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, stderr);
        return KubernetesManifestTests.Parse(await stdout);
    }

    private static IEnumerable<Dictionary<object, object>> Kind(List<Dictionary<object, object>> docs, string kind) => docs.Where(d => (string)d["kind"] == kind);

    private static string Name(Dictionary<object, object> d) => (string)((Dictionary<object, object>)d["metadata"])["name"];

    private static Dictionary<object, object> PodSpec(Dictionary<object, object> deployment) =>
        (Dictionary<object, object>)((Dictionary<object, object>)((Dictionary<object, object>)deployment["spec"])["template"])["spec"];

    private static IEnumerable<Dictionary<object, object>> Containers(Dictionary<object, object> deployment) =>
        ((List<object>)PodSpec(deployment)["containers"]).Cast<Dictionary<object, object>>();

    [SkippableTheory]
    [InlineData("azure")]
    [InlineData("local")]
    public async Task Overlay_renders_with_mapped_images_and_valid_scaled_objects(string overlay)
    {
        List<Dictionary<object, object>> docs = await RenderAsync(overlay);
        Assert.All(docs, d => Assert.Equal("faas", ((Dictionary<object, object>)d["metadata"]).TryGetValue("namespace", out object? ns) ? ns : (string)d["kind"] == "Namespace" ? "faas" : null));
        List<Dictionary<object, object>> deployments = Kind(docs, "Deployment").ToList();
        foreach (Dictionary<object, object> c in deployments.Where(d => Name(d) != "azurite").SelectMany(Containers))
        {
            string image = (string)c["image"];
            Assert.Contains("/", image, StringComparison.Ordinal); // mapped to a registry, not the bare base name
            Assert.Contains(":", image, StringComparison.Ordinal);
        }

        JsonSchema schema = await KubernetesManifestTests.ScaledObjectSchemaAsync();
        List<Dictionary<object, object>> scaled = Kind(docs, "ScaledObject").ToList();
        Assert.Equal(10, scaled.Count); // one per sample function, materializers and the queue function included
        Assert.All(scaled, so => Assert.Empty(schema.Validate(JsonSerializer.Serialize(so))));
        Assert.Single(Kind(docs, "ConfigMap"), cm => Name(cm) == "faas-storage");
    }

    [SkippableFact]
    public async Task Azure_overlay_wires_workload_identity_and_scaler_mutual_tls()
    {
        List<Dictionary<object, object>> docs = await RenderAsync("azure");
        List<Dictionary<object, object>> deployments = Kind(docs, "Deployment").ToList();
        Assert.All(deployments, d => Assert.Equal("true", ((Dictionary<object, object>)((Dictionary<object, object>)((Dictionary<object, object>)d["spec"])["template"])["metadata"])["labels"] is Dictionary<object, object> l ? l["azure.workload.identity/use"] : null));
        Assert.All(Kind(docs, "ServiceAccount"), sa => Assert.True(((Dictionary<object, object>)((Dictionary<object, object>)sa["metadata"])["annotations"]).ContainsKey("azure.workload.identity/client-id")));
        Assert.All(Kind(docs, "ScaledObject"), so =>
        {
            var trigger = (Dictionary<object, object>)((List<object>)((Dictionary<object, object>)so["spec"])["triggers"])[0];
            Assert.Equal("faas-scaler-tls", ((Dictionary<object, object>)trigger["authenticationRef"])["name"]);
        });
        Assert.Single(Kind(docs, "TriggerAuthentication"));
        Dictionary<object, object> server = deployments.Single(d => Name(d) == "faas-server");
        var env = ((List<object>)Containers(server).Single()["env"]).Cast<Dictionary<object, object>>().Select(e => (string)e["name"]).ToList();
        Assert.Contains("FAAS_GRPC_TLS_CLIENT_CA", env);
        string storage = (string)((Dictionary<object, object>)Kind(docs, "ConfigMap").Single()["data"])["FAAS_STORAGE"];
        Assert.StartsWith("https://", storage, StringComparison.Ordinal); // managed identity, no key
    }

    [SkippableFact]
    public async Task Local_overlay_runs_azurite_in_the_cluster()
    {
        List<Dictionary<object, object>> docs = await RenderAsync("local");
        Assert.Single(Kind(docs, "Deployment"), d => Name(d) == "azurite");
        Assert.Single(Kind(docs, "Service"), s => Name(s) == "azurite");
        string storage = (string)((Dictionary<object, object>)Kind(docs, "ConfigMap").Single()["data"])["FAAS_STORAGE"];
        Assert.Contains("BlobEndpoint=http://azurite:10000/devstoreaccount1", storage, StringComparison.Ordinal);
        Assert.Empty(Kind(docs, "TriggerAuthentication"));
    }
}
