using System.Diagnostics;
using System.Globalization;
using FaasEvents.DevStorage;
using FaasEvents.TestSupport;
using Xunit.Abstractions;

namespace FaasEvents.Adoption.Tests;

/// <summary>
/// The README's "Your own app" section, run as a new user would: every package packed into a local feed, the tool and
/// the templates installed from it into a fresh HOME, a new app created outside the repository, its generated test run,
/// the app run with <c>faas dev</c>, an event produced and the handler's output seen. Nothing of the repository is used
/// after packing (the third-party packages come from the machine's NuGet cache: the one-time restore is not timed).
/// </summary>
public sealed class YourOwnAppTests(ITestOutputHelper output)
{
    private static readonly string[] Packages = ["src/FaasEvents.Log", "src/FaasEvents.DevStorage", "src/FaasEvents.Functions", "src/FaasEvents.Testing", "src/FaasEvents.Cli", "templates"];

    [Fact]
    public async Task A_new_app_from_the_packages_is_created_tested_and_run_with_faas_dev()
    {
        string repo = AzuriteProcess.FindRepositoryRoot()!;
        string work = Directory.CreateTempSubdirectory("faas-own-app-").FullName;
        string feed = Path.Combine(work, "feed"), home = Path.Combine(work, "home"), projects = Path.Combine(work, "projects");
        Directory.CreateDirectory(home);
        Directory.CreateDirectory(projects);
        string suffix = "ci." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } np ? np : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string? version = null;
        try
        {
            // 0. What a release does: pack every package (the build this test run made, so no second build).
            var repoShell = new Shell(repo, new Dictionary<string, string> { ["DOTNET_NOLOGO"] = "1", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" }, output);
            foreach (string project in Packages)
            {
                await repoShell.RunAsync("dotnet", ["pack", project, "-c", BuiltProgram.Configuration, "--no-build", "-o", feed, $"-p:VersionSuffix={suffix}", "-nologo", "-v", "q"]);
            }

            string[] packed = [.. Directory.GetFiles(feed, "*.nupkg").Select(Path.GetFileName).Order()!];
            output.WriteLine("packed: " + string.Join(", ", packed));
            foreach (string id in new[] { "FaasEvents.Log", "FaasEvents.DevStorage", "FaasEvents.Functions", "FaasEvents.Testing", "FaasEvents.Cli", "FaasEvents.Templates" })
            {
                Assert.Contains(packed, f => f.StartsWith(id + ".", StringComparison.Ordinal) && f.Contains(suffix, StringComparison.Ordinal));
            }

            version = packed.First(f => f.StartsWith("FaasEvents.Cli.", StringComparison.Ordinal))["FaasEvents.Cli.".Length..^".nupkg".Length];
            // A fresh user: empty HOME (tools, templates), the machine's package cache, Azurite installed once under FAAS_HOME.
            string tools = Path.Combine(home, ".dotnet", "tools");
            var env = new Dictionary<string, string>
            {
                ["HOME"] = home,
                ["DOTNET_CLI_HOME"] = home,
                ["NUGET_PACKAGES"] = packages,
                ["DOTNET_NOLOGO"] = "1",
                ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
                ["FAAS_HOME"] = Path.Combine(repo, ".faas", "tool-home"),
                ["PATH"] = tools + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"),
                ["NO_COLOR"] = "1",
            };
            var shell = new Shell(projects, env, output);
            string faas = Path.Combine(tools, "faas");

            // The README's steps, timed from the tool install to the handler's first output.
            var sw = Stopwatch.StartNew();
            await shell.RunAsync("dotnet", ["nuget", "add", "source", feed, "--name", "faasevents"]);
            await shell.RunAsync("dotnet", ["tool", "install", "--global", "FaasEvents.Cli", "--version", version]); // the README installs the newest; this run's packages carry a -ci suffix
            await shell.RunAsync("dotnet", ["new", "install", $"FaasEvents.Templates::{version}"]);
            await shell.RunAsync("dotnet", ["new", "faas-app", "-n", "Shop"]);
            string shop = Path.Combine(projects, "Shop");
            Assert.True(File.Exists(Path.Combine(shop, "Shop", "Shop.csproj")), "dotnet new faas-app -n Shop made Shop/Shop/Shop.csproj");
            Assert.Contains(version, await File.ReadAllTextAsync(Path.Combine(shop, "Shop", "Shop.csproj")), StringComparison.Ordinal);
            TimeSpan created = sw.Elapsed;

            string tested = await shell.RunAsync("dotnet", ["test"], shop);
            Assert.Contains("Passed!", tested, StringComparison.Ordinal);
            TimeSpan testedAt = sw.Elapsed;

            int[] ports = AzuriteProcess.GetFreePorts(3);
            (int storage, int http, int grpc) = (ports[0], ports[1], ports[2]);
            (Process dev, ProcessOutput devOutput) = new Shell(shop, env, output).Start(faas, ["dev", "--in-memory", "--port", $"{storage}", "--http-port", $"{http}", "--grpc-port", $"{grpc}"]);
            try
            {
                await Eventually.UntilAsync(() => Task.FromResult(devOutput.ToString().Contains("ready: Ctrl+C stops everything", StringComparison.Ordinal) || dev.HasExited), "faas dev to be ready", 240);
                Assert.False(dev.HasExited, "faas dev stopped:\n" + devOutput);
                TimeSpan readyAt = sw.Elapsed;

                var produceEnv = new Dictionary<string, string>(env) { ["FAAS_STORAGE"] = AzuriteProcess.GetConnectionString(storage), ["FAAS_SERVER_URL"] = $"http://127.0.0.1:{http}" };
                var user = new Shell(shop, produceEnv, output);
                await user.RunAsync(faas, ["produce", "orders", "--key", "bob", "--data", """{"orderId":"o-1","customer":"bob","amount":42}"""]);
                await Eventually.UntilAsync(() => Task.FromResult(devOutput.ToString().Contains("Confirming order o-1 of bob", StringComparison.Ordinal)), "the handler's log line for order o-1", 60);
                TimeSpan handledAt = sw.Elapsed;

                string confirmed = await user.RunAsync(faas, ["tail", "orders.confirmed", "--output", "json"]);
                Assert.Contains("Thank you for your order, bob!", confirmed, StringComparison.Ordinal);

                string report = string.Create(CultureInfo.InvariantCulture, $"Your own app: tool + templates installed and app created {created.TotalSeconds:0.0} s, its test passed {testedAt.TotalSeconds:0.0} s, faas dev ready {readyAt.TotalSeconds:0.0} s, first handler output {handledAt.TotalSeconds:0.0} s after the first command (goal 120 s).");
                output.WriteLine(report);
                Console.WriteLine(report);
            }
            finally
            {
                await dev.TerminateAsync(TimeSpan.FromSeconds(60));
                output.WriteLine(devOutput.ToString());
                dev.Dispose();
            }

            // The item templates, in the app's folder, as the README shows them: the app still builds, with their functions.
            string app = Path.Combine(shop, "Shop");
            await shell.RunAsync("dotnet", ["new", "faas-handler", "-n", "SendInvoice", "--stream", "orders.confirmed", "--output-stream", "invoices"], app);
            await shell.RunAsync("dotnet", ["new", "faas-materializer", "-n", "CustomerBalances", "--stream", "payments"], app);
            string handler = await File.ReadAllTextAsync(Path.Combine(app, "SendInvoice.cs"));
            Assert.Contains("[Function(\"send-invoice\")]", handler, StringComparison.Ordinal);
            Assert.Contains("[EventOutput(\"invoices\")]", handler, StringComparison.Ordinal);
            Assert.Contains("namespace Shop;", handler, StringComparison.Ordinal);
            Assert.Contains("[Function(\"customer-balances\")]", await File.ReadAllTextAsync(Path.Combine(app, "CustomerBalances.cs")), StringComparison.Ordinal);
            await shell.RunAsync("dotnet", ["build", "-nologo", "-v", "q"], app);
            string listed = await shell.RunAsync("dotnet", ["run", "--no-build", "--", "--list"], app);
            Assert.Contains("send-invoice", listed, StringComparison.Ordinal);
            Assert.Contains("customer-balances", listed, StringComparison.Ordinal);

            // The package's source generator: a wrong signature fails the build, naming the method and the fix.
            await File.WriteAllTextAsync(Path.Combine(app, "Wrong.cs"), """
                using FaasEvents.Functions;
                namespace Shop;
                public static class Wrong
                {
                    [Function("wrong")]
                    public static int Count([EventTrigger("orders")] Order order) => 1;
                }
                """);
            (int code, string built) = await shell.TryRunAsync("dotnet", ["build", "-nologo"], app);
            Assert.NotEqual(0, code);
            Assert.Contains("error FAAS009: [Function(\"wrong\")] Shop.Wrong.Count: returns int but has no [EventOutput(\"stream\")]", built, StringComparison.Ordinal);
        }
        finally
        {
            // The packages this run added to the machine's cache, and everything else it made.
            foreach (string id in new[] { "faasevents.log", "faasevents.devstorage", "faasevents.functions", "faasevents.testing", "faasevents.cli", "faasevents.templates" })
            {
                string cached = Path.Combine(packages, id, (version ?? "none").ToLowerInvariant());
                if (Directory.Exists(cached))
                {
                    Directory.Delete(cached, recursive: true);
                }
            }

            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // a process still holding a file: the temp directory is cleaned by the OS
            }
        }
    }
}
