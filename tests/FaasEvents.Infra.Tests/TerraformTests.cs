using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using FaasEvents.DevStorage;

namespace FaasEvents.Infra.Tests;

/// <summary>
/// infra/terraform: every file parses with HashiCorp's HCL parser (@cdktf/hcl2json, pinned in package.json), and every
/// reference resolves: var.*, local.*, resources, data sources and modules are declared, variables are used, and each
/// resource type's provider is required.
/// </summary>
public partial class TerraformTests
{
    private static readonly string Root = AzuriteProcess.FindRepositoryRoot()!;

    internal static async Task<JsonElement> ParseAsync(string file)
    {
        await AzuriteProcess.EnsureNpmPackageAsync(Root, Path.Combine("@cdktf", "hcl2json", "lib", "index.js"));
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "hcl2json.js"), Root, file })
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"{file}: {stderr}");
        return JsonDocument.Parse(await stdout).RootElement.Clone();
    }

    /// <summary>Problems in a set of parsed Terraform files: unresolved references, unused variables, missing providers.</summary>
    internal static List<string> FindProblems(IReadOnlyList<JsonElement> files)
    {
        var variables = new HashSet<string>(StringComparer.Ordinal);
        var locals = new HashSet<string>(StringComparer.Ordinal);
        var resources = new HashSet<string>(StringComparer.Ordinal);
        var data = new HashSet<string>(StringComparer.Ordinal);
        var modules = new HashSet<string>(StringComparer.Ordinal);
        var providers = new HashSet<string>(StringComparer.Ordinal);
        var expressions = new List<string>();
        foreach (JsonElement f in files)
        {
            foreach (JsonProperty block in f.EnumerateObject())
            {
                switch (block.Name)
                {
                    case "variable": variables.UnionWith(block.Value.EnumerateObject().Select(v => v.Name)); break;
                    case "locals": locals.UnionWith(block.Value.EnumerateArray().SelectMany(l => l.EnumerateObject()).Select(l => l.Name)); break;
                    case "resource": resources.UnionWith(block.Value.EnumerateObject().SelectMany(t => t.Value.EnumerateObject().Select(n => $"{t.Name}.{n.Name}"))); break;
                    case "data": data.UnionWith(block.Value.EnumerateObject().SelectMany(t => t.Value.EnumerateObject().Select(n => $"{t.Name}.{n.Name}"))); break;
                    case "module": modules.UnionWith(block.Value.EnumerateObject().Select(m => m.Name)); break;
                    case "terraform":
                        foreach (JsonElement t in block.Value.EnumerateArray())
                        {
                            if (t.TryGetProperty("required_providers", out JsonElement rp))
                            {
                                providers.UnionWith(rp.EnumerateArray().SelectMany(x => x.EnumerateObject()).Select(x => x.Name));
                            }
                        }

                        break;
                }
            }

            Collect(f, expressions);
        }

        var problems = new List<string>();
        string all = string.Join('\n', expressions);
        foreach (Match m in Reference().Matches(all))
        {
            string kind = m.Groups["kind"].Value, name = m.Groups["name"].Value;
            bool ok = kind switch
            {
                "var" => variables.Contains(name),
                "local" => locals.Contains(name),
                "module" => modules.Contains(name),
                "data" => data.Contains(name),
                _ => resources.Contains($"{kind}.{name}"),
            };
            if (!ok)
            {
                problems.Add($"'{m.Value}' is not declared");
            }
        }

        foreach (string v in variables.Where(v => !all.Contains($"var.{v}", StringComparison.Ordinal)))
        {
            problems.Add($"variable '{v}' is declared but never used");
        }

        foreach (string type in resources.Concat(data).Select(r => r.Split('.')[0]).Distinct())
        {
            if (!providers.Contains(type.Split('_')[0]))
            {
                problems.Add($"resource type '{type}' needs provider '{type.Split('_')[0]}' in required_providers");
            }
        }

        return problems.Distinct().ToList();
    }

    private static void Collect(JsonElement e, List<string> into)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String when e.GetString()!.Contains("${", StringComparison.Ordinal): into.Add(e.GetString()!); break;
            case JsonValueKind.Object:
                foreach (JsonProperty p in e.EnumerateObject())
                {
                    if (p.Name.Contains("${", StringComparison.Ordinal))
                    {
                        into.Add(p.Name);
                    }

                    Collect(p.Value, into);
                }

                break;
            case JsonValueKind.Array:
                foreach (JsonElement x in e.EnumerateArray())
                {
                    Collect(x, into);
                }

                break;
        }
    }

    [GeneratedRegex(@"\b(?<kind>var|local|module)\.(?<name>[A-Za-z_][\w-]*)|\bdata\.(?<name>[a-z][\w]*\.[A-Za-z_][\w-]*)|(?<![\w.])(?<kind>(?:azurerm|kubernetes|helm|random|azuread)_[a-z_]+)\.(?<name>[A-Za-z_][\w-]*)")]
    private static partial Regex Reference();

    [Fact]
    public async Task Every_file_parses_and_every_reference_resolves()
    {
        string[] files = Directory.GetFiles(Path.Combine(Root, "infra", "terraform"), "*.tf").Order().ToArray();
        Assert.Equal(["kubernetes.tf", "main.tf", "outputs.tf", "variables.tf", "versions.tf"], files.Select(Path.GetFileName));
        var parsed = new List<JsonElement>();
        foreach (string f in files)
        {
            parsed.Add(await ParseAsync(f));
        }

        List<string> problems = FindProblems(parsed);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task The_checks_catch_bad_hcl_and_dangling_references()
    {
        string dir = Directory.CreateTempSubdirectory().FullName;
        string bad = Path.Combine(dir, "bad.tf");
        await File.WriteAllTextAsync(bad, "resource \"azurerm_resource_group\" \"rg\" { name = var.missing location = local.nowhere }\n");
        await Assert.ThrowsAnyAsync<Exception>(() => ParseAsync(bad)); // invalid HCL: one-line block with two arguments

        string dangling = Path.Combine(dir, "dangling.tf");
        await File.WriteAllTextAsync(dangling, """
            variable "unused" { type = string }
            resource "azurerm_resource_group" "rg" {
              name     = var.missing
              location = azurerm_storage_account.nope.location
            }
            """);
        List<string> problems = FindProblems([await ParseAsync(dangling)]);
        Assert.Contains("'var.missing' is not declared", problems);
        Assert.Contains("'azurerm_storage_account.nope' is not declared", problems);
        Assert.Contains("variable 'unused' is declared but never used", problems);
        Assert.Contains("resource type 'azurerm_resource_group' needs provider 'azurerm' in required_providers", problems);
    }
}
