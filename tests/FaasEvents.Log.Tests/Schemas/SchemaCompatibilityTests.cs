using FaasEvents.Log.Schemas;

namespace FaasEvents.Log.Tests.Schemas;

/// <summary>
/// Every evolution rule in every compatibility mode, with the meanings the Confluent Schema Registry documents:
/// backward = a consumer on the new schema reads events written with the old, forward = a consumer on the old reads
/// the new's, full = both, none = anything. Each case states whether it is backward and forward compatible; the
/// other modes follow (transitive modes are the same pairwise, checked against more versions in SchemaRegistryTests).
/// </summary>
public class SchemaCompatibilityTests
{
    private const string Closed = "\"additionalProperties\": false";

    public static TheoryData<string, string, string, bool, bool, string> Rules() => new()
    {
        // name, old, new, backward?, forward?, a phrase the refusal must contain (either direction)
        { "add optional field (closed model)", Obj(Closed, "\"a\": {\"type\": \"string\"}"), Obj(Closed, "\"a\": {\"type\": \"string\"}", "\"b\": {\"type\": \"string\"}"), true, false, "added field `b`" },
        { "add optional field (open model)", Obj(null, "\"a\": {\"type\": \"string\"}"), Obj(null, "\"a\": {\"type\": \"string\"}", "\"b\": {\"type\": \"string\"}"), false, true, "added field `b` to an open schema" },
        { "add optional field accepting anything (open model)", Obj(null, "\"a\": {\"type\": \"string\"}"), Obj(null, "\"a\": {\"type\": \"string\"}", "\"b\": {}"), true, true, "" },
        { "add required field", Obj(Closed, "\"a\": {\"type\": \"string\"}"), Req(Obj(Closed, "\"a\": {\"type\": \"string\"}", "\"b\": {\"type\": \"string\"}"), "b"), false, false, "added required field `b`" },
        { "remove optional field (closed model)", Obj(Closed, "\"a\": {\"type\": \"string\"}", "\"b\": {\"type\": \"string\"}"), Obj(Closed, "\"a\": {\"type\": \"string\"}"), false, true, "removed field `b` from a closed schema" },
        { "remove optional field (open model)", Obj(null, "\"a\": {\"type\": \"string\"}", "\"b\": {\"type\": \"string\"}"), Obj(null, "\"a\": {\"type\": \"string\"}"), true, false, "removed field `b` from an open schema" },
        { "remove required field (open model)", Req(Obj(null, "\"a\": {\"type\": \"string\"}", "\"amount\": {\"type\": \"number\"}"), "amount"), Obj(null, "\"a\": {\"type\": \"string\"}"), true, false, "removed required field `amount`" },
        { "make a field required", Obj(null, "\"a\": {\"type\": \"string\"}"), Req(Obj(null, "\"a\": {\"type\": \"string\"}"), "a"), false, true, "made field `a` required" },
        { "change type", Obj(null, "\"a\": {\"type\": \"string\"}"), Obj(null, "\"a\": {\"type\": \"integer\"}"), false, false, "changed type from string to integer" },
        { "widen integer to number", Obj(null, "\"n\": {\"type\": \"integer\"}"), Obj(null, "\"n\": {\"type\": \"number\"}"), true, false, "widened integer to number" },
        { "narrow number to integer", Obj(null, "\"n\": {\"type\": \"number\"}"), Obj(null, "\"n\": {\"type\": \"integer\"}"), false, true, "narrowed number to integer" },
        { "make a field nullable", Obj(null, "\"a\": {\"type\": \"string\"}"), Obj(null, "\"a\": {\"type\": [\"string\", \"null\"]}"), true, false, "new events may be null" },
        { "lower a maximum", Obj(null, "\"n\": {\"type\": \"integer\", \"maximum\": 100}"), Obj(null, "\"n\": {\"type\": \"integer\", \"maximum\": 50}"), false, true, "maximum from 100 to 50" },
        { "raise a maxLength", Obj(null, "\"s\": {\"type\": \"string\", \"maxLength\": 10}"), Obj(null, "\"s\": {\"type\": \"string\", \"maxLength\": 20}"), true, false, "maxLength from 10 to 20" },
        { "rename a field (closed model)", Req(Obj(Closed, "\"total\": {\"type\": \"number\"}"), "total"), Req(Obj(Closed, "\"amount\": {\"type\": \"number\"}"), "amount"), false, false, "added required field `amount`" },
        { "add an enum value", Obj(null, "\"s\": {\"enum\": [\"new\", \"paid\"]}"), Obj(null, "\"s\": {\"enum\": [\"new\", \"paid\", \"shipped\"]}"), true, false, "\"shipped\"" },
        { "remove an enum value", Obj(null, "\"s\": {\"enum\": [\"new\", \"paid\", \"shipped\"]}"), Obj(null, "\"s\": {\"enum\": [\"new\", \"paid\"]}"), false, true, "removed enum value(s) \"shipped\"" },
        { "restrict a string to an enum", Obj(null, "\"s\": {\"type\": \"string\"}"), Obj(null, "\"s\": {\"type\": \"string\", \"enum\": [\"new\"]}"), false, true, "restricted the values" },
        { "add optional field in a nested closed object", Obj(null, "\"customer\": " + Obj(Closed, "\"id\": {\"type\": \"string\"}")), Obj(null, "\"customer\": " + Obj(Closed, "\"id\": {\"type\": \"string\"}", "\"email\": {\"type\": \"string\"}")), true, false, "`$.customer`" },
        { "change a nested field's type", Obj(null, "\"customer\": " + Obj(null, "\"id\": {\"type\": \"string\"}")), Obj(null, "\"customer\": " + Obj(null, "\"id\": {\"type\": \"integer\"}")), false, false, "`$.customer.id`" },
        { "widen array items", Obj(null, "\"xs\": {\"type\": \"array\", \"items\": {\"type\": \"integer\"}}"), Obj(null, "\"xs\": {\"type\": \"array\", \"items\": {\"type\": \"number\"}}"), true, false, "`$.xs[]`" },
        { "change array items", Obj(null, "\"xs\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}"), Obj(null, "\"xs\": {\"type\": \"array\", \"items\": {\"type\": \"integer\"}}"), false, false, "`$.xs[]`" },
        { "lower maxItems", Obj(null, "\"xs\": {\"type\": \"array\", \"maxItems\": 5}"), Obj(null, "\"xs\": {\"type\": \"array\", \"maxItems\": 3}"), false, true, "maxItems from 5 to 3" },
        { "close the content model", Obj(null, "\"a\": {\"type\": \"string\"}"), Obj(Closed, "\"a\": {\"type\": \"string\"}"), false, true, "closed the content model" },
        { "nested definitions by $ref, unchanged", Ref("\"id\": {\"type\": \"string\"}"), Ref("\"id\": {\"type\": \"string\"}"), true, true, "" },
        { "nested definitions by $ref, type changed", Ref("\"id\": {\"type\": \"string\"}"), Ref("\"id\": {\"type\": \"integer\"}"), false, false, "`$.customer.id`" },
        { "change a keyword it cannot reason about", Obj(null, "\"a\": {\"oneOf\": [{\"type\": \"string\"}, {\"type\": \"integer\"}]}"), Obj(null, "\"a\": {\"oneOf\": [{\"type\": \"string\"}]}"), false, false, "'oneOf'" },
        { "identical, annotations changed", Obj(null, "\"a\": {\"type\": \"string\", \"description\": \"one\"}"), Obj(null, "\"a\": {\"type\": \"string\", \"description\": \"two\"}"), true, true, "" },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Each_rule_is_judged_in_every_mode(string rule, string oldSchema, string newSchema, bool backward, bool forward, string phrase)
    {
        SchemaNode old = SchemaNode.Parse(oldSchema), now = SchemaNode.Parse(newSchema);
        var expected = new Dictionary<CompatibilityMode, bool>
        {
            [CompatibilityMode.Backward] = backward,
            [CompatibilityMode.BackwardTransitive] = backward,
            [CompatibilityMode.Forward] = forward,
            [CompatibilityMode.ForwardTransitive] = forward,
            [CompatibilityMode.Full] = backward && forward,
            [CompatibilityMode.FullTransitive] = backward && forward,
            [CompatibilityMode.None] = true,
        };

        var refusals = new List<string>();
        foreach ((CompatibilityMode mode, bool compatible) in expected)
        {
            IReadOnlyList<string> findings = mode == CompatibilityMode.None ? [] : SchemaCompatibility.Check(now, old, mode);
            Assert.True(compatible == (findings.Count == 0), $"{rule} in {mode}: expected {(compatible ? "compatible" : "refused")}, findings: {string.Join(" | ", findings)}");
            Assert.All(findings, f => Assert.Contains("compatibility requires", f, StringComparison.Ordinal)); // the rule, not only the field
            refusals.AddRange(findings);
        }

        if (!backward || !forward)
        {
            Assert.Contains(phrase, string.Join(" | ", refusals), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_refusal_names_the_field_and_the_rule_it_breaks()
    {
        string old = Req(Obj(null, "\"orderId\": {\"type\": \"string\"}", "\"amount\": {\"type\": \"number\"}"), "orderId", "amount");
        string now = Req(Obj(null, "\"orderId\": {\"type\": \"string\"}", "\"amount\": {\"type\": \"number\"}", "\"currency\": {\"type\": \"string\"}"), "orderId", "amount", "currency");
        string finding = Assert.Single(SchemaCompatibility.Check(SchemaNode.Parse(now), SchemaNode.Parse(old), CompatibilityMode.Backward));
        Assert.Equal("`$`: added required field `currency`; old events lack it; backward compatibility requires old events to stay readable by new consumers", finding);
    }

    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("{\"type\": \"text\"}", "'text' is not a JSON Schema type")]
    [InlineData("{\"properties\": {\"a\": {\"$ref\": \"https://example.com/a.json\"}}}", "only local references")]
    [InlineData("{\"properties\": {\"a\": {\"$ref\": \"#/$defs/missing\"}}}", "does not point at anything")]
    [InlineData("42", "must be an object or true/false")]
    public void A_malformed_schema_is_refused_saying_where(string schema, string phrase)
    {
        EventLogException ex = Assert.Throws<EventLogException>(() => SchemaNode.Parse(schema));
        Assert.Equal(EventLogErrorReason.InvalidSchema, ex.Reason);
        Assert.Contains(phrase, ex.Message, StringComparison.Ordinal);
    }

    private static string Obj(string? model, params string[] properties) =>
        "{\"type\": \"object\", \"properties\": {" + string.Join(", ", properties) + "}" + (model is null ? "" : ", " + model) + "}";

    private static string Req(string schema, params string[] required) =>
        schema[..^1] + ", \"required\": [" + string.Join(", ", required.Select(r => $"\"{r}\"")) + "]}";

    private static string Ref(string customerProperties) =>
        "{\"type\": \"object\", \"$defs\": {\"Customer\": " + Obj(null, customerProperties) + "}, \"properties\": {\"customer\": {\"$ref\": \"#/$defs/Customer\"}}}";
}
