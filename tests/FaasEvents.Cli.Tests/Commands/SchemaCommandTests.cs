using FaasEvents.Log;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Cli.Tests.Commands;

/// <summary><c>faas schema register|show|check|compatibility</c> as a user types them, bad input included.</summary>
public class SchemaCommandTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task Register_show_check_and_compatibility_work_and_refuse_with_the_reason()
    {
        EventLogClient log = azurite.CreateClient();
        Task<DotnetRun.Result> Faas(params string[] args) => FaasProcess.RunAsync(azurite.ConnectionString, [.. args, "--container", log.Container.Name]);
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders" });
        string dir = Directory.CreateTempSubdirectory("schemas").FullName;
        string v1 = Path.Combine(dir, "v1.json"), v2 = Path.Combine(dir, "v2.json"), bad = Path.Combine(dir, "bad.json");
        await File.WriteAllTextAsync(v1, """{"type": "object", "properties": {"orderId": {"type": "string"}, "amount": {"type": "number"}}, "required": ["orderId", "amount"], "additionalProperties": false}""");
        await File.WriteAllTextAsync(v2, """{"type": "object", "properties": {"orderId": {"type": "string"}, "amount": {"type": "number"}, "currency": {"type": "string"}}, "required": ["orderId", "amount", "currency"], "additionalProperties": false}""");
        await File.WriteAllTextAsync(bad, """{"type": "object", "properties": {"orderId": {"type": "str"}}}""");

        DotnetRun.Result registered = await Faas("schema", "register", "orders", v1);
        Assert.Equal(0, registered.ExitCode);
        Assert.Contains("Registered version 1 of 'orders' (backward compatibility). Events written with it carry dataschema faas:schemas/orders/1", registered.Stdout, StringComparison.Ordinal);
        Assert.Contains("already has this schema as version 1", (await Faas("schema", "register", "orders", v1)).Stdout, StringComparison.Ordinal);

        DotnetRun.Result check = await Faas("schema", "check", "orders", v2);
        Assert.Equal(1, check.ExitCode);
        Assert.Contains("Incompatible (backward) with version 1: 1 problem(s)", check.Stdout, StringComparison.Ordinal);
        Assert.Contains("added required field `currency`", check.Stdout, StringComparison.Ordinal);
        DotnetRun.Result refused = await Faas("schema", "register", "orders", v2);
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith("error: Schema not registered for 'orders': it breaks backward compatibility with version 1", refused.Stderr.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", refused.Stderr, StringComparison.Ordinal);

        DotnetRun.Result shown = await Faas("schema", "show", "orders");
        Assert.Equal(0, shown.ExitCode);
        Assert.Contains("\"orderId\"", shown.Stdout, StringComparison.Ordinal);
        Assert.Contains("1 version(s), backward compatibility", (await Faas("schema", "show", "orders", "--list")).Stdout, StringComparison.Ordinal);

        Assert.Contains("'orders': none compatibility", (await Faas("schema", "compatibility", "orders", "none")).Stdout, StringComparison.Ordinal);
        Assert.Equal(0, (await Faas("schema", "register", "orders", v2)).ExitCode);
        Assert.Contains("'orders': none compatibility", (await Faas("schema", "compatibility", "orders")).Stdout, StringComparison.Ordinal);

        string generated = Path.Combine(dir, "Orders.g.cs");
        DotnetRun.Result codegen = await Faas("schema", "codegen", "orders", "--namespace", "Shop.Contracts", "--type", "Order", "-o", generated);
        Assert.Equal(0, codegen.ExitCode);
        Assert.Contains($"Wrote {generated}: records of 'orders' schema version 2.", codegen.Stdout, StringComparison.Ordinal);
        string code = await File.ReadAllTextAsync(generated);
        Assert.Contains("namespace Shop.Contracts;", code, StringComparison.Ordinal);
        Assert.Contains("public sealed record Order", code, StringComparison.Ordinal);
        Assert.Contains("public const int SchemaVersion = 2;", code, StringComparison.Ordinal);
        Assert.Contains("public required string Currency { get; init; }", code, StringComparison.Ordinal);
        Assert.Contains("public const int SchemaVersion = 1;", (await Faas("schema", "codegen", "orders", "--version", "1")).Stdout, StringComparison.Ordinal);

        DotnetRun.Result badMode = await Faas("schema", "compatibility", "orders", "sideways");
        Assert.Equal(1, badMode.ExitCode);
        Assert.Contains("'sideways' is not a compatibility mode; use one of: backward,", badMode.Stderr, StringComparison.Ordinal);
        DotnetRun.Result badSchema = await Faas("schema", "register", "orders", bad);
        Assert.Equal(1, badSchema.ExitCode);
        Assert.Contains("$.orderId.type: 'str' is not a JSON Schema type", badSchema.Stderr, StringComparison.Ordinal);
        Assert.Contains("Schema file 'nope.json' not found", (await Faas("schema", "check", "orders", "nope.json")).Stderr, StringComparison.Ordinal);
        Assert.Contains("Stream 'ghost' does not exist", (await Faas("schema", "show", "ghost")).Stderr, StringComparison.Ordinal);
        Assert.Contains("has no schema version 7; it has versions 1 to 2", (await Faas("schema", "show", "orders", "--version", "7")).Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Owner_transfer_produce_as_and_describe_show_the_single_writer()
    {
        EventLogClient log = azurite.CreateClient();
        Task<DotnetRun.Result> Faas(params string[] args) => FaasProcess.RunAsync(azurite.ConnectionString, [.. args, "--container", log.Container.Name]);
        await log.CreateStreamAsync(new StreamDefinition { Name = "payments" });

        Assert.Contains("'payments' has no owner: any producer may append.", (await Faas("streams", "owner", "payments")).Stdout, StringComparison.Ordinal);
        Assert.Contains("'payments' is owned by 'payment-service' now (was 'none')", (await Faas("streams", "owner", "payments", "payment-service", "--by", "ops")).Stdout, StringComparison.Ordinal);

        DotnetRun.Result refused = await Faas("produce", "payments", "--data", "{}", "--as", "reporting");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("error: Stream 'payments' has a single writer, 'payment-service'; this producer is 'reporting'. Nothing was written.", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, (await Faas("produce", "payments", "--data", "{}", "--as", "payment-service", "--id", "p1")).ExitCode);
        Assert.Contains("\"faasproducer\":\"payment-service\"", (await Faas("tail", "payments", "--output", "json")).Stdout, StringComparison.Ordinal);

        string history = (await Faas("streams", "owner", "payments")).Stdout;
        Assert.Contains("(none) -> payment-service  by ops", history, StringComparison.Ordinal);
        string described = (await Faas("streams", "describe", "payments")).Stdout;
        Assert.Contains("Owner:       payment-service (single writer since", described, StringComparison.Ordinal);
        Assert.Contains("Schema:      none (faas schema register payments FILE)", described, StringComparison.Ordinal);
        Assert.Contains("Give a new owner or --none, not both.", (await Faas("streams", "owner", "payments", "x", "--none")).Stderr, StringComparison.Ordinal);
        Assert.Contains("has no owner now (was 'payment-service')", (await Faas("streams", "owner", "payments", "--none")).Stdout, StringComparison.Ordinal);
    }
}
