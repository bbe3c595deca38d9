using System.Text.Json;
using FaasEvents.DevStorage;

namespace FaasEvents.Infra.Tests;

/// <summary>
/// The single writer in Azure: Bicep and Terraform give each external stream owner a blob role conditioned (ABAC) to
/// write only under its streams' prefixes, and condition the function apps' role to refuse writes to streams owned by
/// others. Validated statically (no Azure here): the compiled template and the parsed HCL carry those conditions.
/// </summary>
public class SingleWriterRbacTests
{
    private static readonly string Root = AzuriteProcess.FindRepositoryRoot()!;

    [Fact]
    public async Task Bicep_conditions_owner_writes_to_their_streams_prefixes()
    {
        (int code, string arm) = await BicepTests.RunAsync("build", Path.Combine(Root, "infra", "bicep", "main.bicep"), "--stdout");
        Assert.True(code == 0, arm);
        List<JsonElement> resources = [.. JsonDocument.Parse(arm).RootElement.GetProperty("resources").EnumerateArray()];
        JsonElement owners = resources.Single(r => r.TryGetProperty("copy", out JsonElement c) && c.GetProperty("name").GetString() == "ownerBlobRoles");
        Assert.Equal("[length(filter(parameters('streamOwners'), lambda('o', not(equals(lambdaVariables('o').principalId, 'app')))))]", owners.GetProperty("copy").GetProperty("count").GetString()); // one per external owner
        string ownerCondition = owners.GetProperty("properties").GetProperty("condition").GetString()!;
        Assert.Contains("StringStartsWith ''streams/{1}/''", ownerCondition, StringComparison.Ordinal);
        Assert.Equal("2.0", owners.GetProperty("properties").GetProperty("conditionVersion").GetString());
        JsonElement app = resources.Single(r => r.GetProperty("name").GetString()!.Contains("-app'", StringComparison.Ordinal) && r.GetProperty("type").GetString() == "Microsoft.Authorization/roleAssignments");
        string appCondition = app.GetProperty("properties").GetProperty("condition").GetString()!;
        Assert.Contains("variables('appWriteCondition')", appCondition, StringComparison.Ordinal);
        JsonElement variables = JsonDocument.Parse(arm).RootElement.GetProperty("variables");
        Assert.Contains("StringNotStartsWith ''streams/{1}/''", variables.GetProperty("notOwnedPaths").GetString(), StringComparison.Ordinal);
        Assert.Contains("blobs/add/action", arm, StringComparison.Ordinal); // Append Block is a write too
    }

    [Fact]
    public async Task Terraform_conditions_owner_writes_to_their_streams_prefixes()
    {
        JsonElement main = await TerraformTests.ParseAsync(Path.Combine(Root, "infra", "terraform", "main.tf"));
        JsonElement owner = main.GetProperty("resource").GetProperty("azurerm_role_assignment").GetProperty("stream_owner")[0];
        Assert.Equal("${local.external_owners}", owner.GetProperty("for_each").GetString());
        Assert.Equal("2.0", owner.GetProperty("condition_version").GetString());
        Assert.Contains("StringStartsWith 'streams/${s}/'", owner.GetProperty("condition").GetString(), StringComparison.Ordinal);
        JsonElement app = main.GetProperty("resource").GetProperty("azurerm_role_assignment").GetProperty("blob_data")[0];
        Assert.Contains("local.app_write_filter", app.GetProperty("condition").GetString(), StringComparison.Ordinal);
        string locals = main.GetProperty("locals")[0].GetProperty("app_write_filter").GetString()!;
        Assert.Contains("StringNotStartsWith 'streams/${s}/'", locals, StringComparison.Ordinal);
    }
}
