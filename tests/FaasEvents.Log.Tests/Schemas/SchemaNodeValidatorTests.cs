using System.Text.Json;
using FaasEvents.Log.Schemas;
using Json.Schema;

namespace FaasEvents.Log.Tests.Schemas;

/// <summary>The one-walk validator agrees with JsonSchema.Net (the general evaluator) on every schema it supports.</summary>
public class SchemaNodeValidatorTests
{
    private static readonly string[] Schemas =
    [
        """{"type": "object", "required": ["id", "n"], "properties": {"id": {"type": "string", "minLength": 2, "maxLength": 5}, "n": {"type": "integer", "minimum": 0, "exclusiveMaximum": 10}}}""",
        """{"type": "object", "additionalProperties": false, "properties": {"tags": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"enum": ["a", "b", 3, null]}}, "price": {"type": ["number", "null"], "exclusiveMinimum": 0}}}""",
        """{"type": "object", "additionalProperties": {"type": "boolean"}, "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}}}""",
        """{"$defs": {"Line": {"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "maximum": 99}}}}, "type": "object", "properties": {"lines": {"type": "array", "items": {"$ref": "#/$defs/Line"}}}}""",
        """{"type": ["string", "integer"], "const": 7}""",
        """true""",
    ];

    private static readonly string[] Documents =
    [
        """{"id": "ab", "n": 3}""", """{"id": "a", "n": 3}""", """{"id": "abcdef", "n": 3}""", """{"id": "ab", "n": 10}""", """{"id": "ab", "n": 9.0}""",
        """{"id": "ab", "n": 2.5}""", """{"id": "ab"}""", """{"n": -1}""", """{"tags": ["a"]}""", """{"tags": []}""", """{"tags": ["a", "b", 3]}""",
        """{"tags": [null, 3.0]}""", """{"tags": ["c"]}""", """{"price": 0}""", """{"price": null}""", """{"price": 0.01}""", """{"other": 1}""",
        """{"code": "EUR", "x": true}""", """{"code": "eur"}""", """{"code": "EUR", "x": 1}""", """{"lines": [{"sku": "a", "qty": 99}, {"qty": 100}]}""",
        """{"lines": [{"sku": "a", "qty": 1.5}]}""", """7""", """7.0""", "\"7\"", """8""", """[]""", """null""", "\"héllo 😀\"",
        """{"id": "😀😀", "n": 0}""", """{"id": "é", "n": 0}""",
    ];

    [Fact]
    public void The_fast_validator_and_the_general_evaluator_agree()
    {
        var disagreements = new List<string>();
        foreach (string schemaText in Schemas)
        {
            SchemaNode node = SchemaNode.Parse(schemaText);
            Assert.True(SchemaNodeValidator.Supports(node), schemaText);
            var fast = new SchemaNodeValidator(node);
            JsonSchema general = JsonSchema.FromText(schemaText, new BuildOptions { SchemaRegistry = new SchemaRegistry() });
            foreach (string doc in Documents)
            {
                using JsonDocument parsed = JsonDocument.Parse(doc);
                var problems = new List<string>();
                fast.Validate(parsed.RootElement, problems);
                bool expected = general.Evaluate(parsed.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.Flag }).IsValid;
                if (expected != (problems.Count == 0))
                {
                    disagreements.Add($"{schemaText} / {doc}: general {(expected ? "valid" : "invalid")}, fast {string.Join("; ", problems)}");
                }
            }
        }

        Assert.True(disagreements.Count == 0, string.Join("\n", disagreements));
    }

    [Fact]
    public void Keywords_it_does_not_model_send_the_schema_to_the_general_evaluator()
    {
        Assert.False(SchemaNodeValidator.Supports(SchemaNode.Parse("""{"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}}""")));
        var validator = new SchemaValidator(new StreamSchema("s", 1, """{"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}, {"type": "integer"}]}}}""", DateTimeOffset.UtcNow));
        Assert.Empty(validator.Validate(new FaasEvents.Log.Events.LogEvent("1", "/t", "t") { DataContentType = "application/json", Data = BinaryData.FromString("""{"a": 1}""") }));
        Assert.NotEmpty(validator.Validate(new FaasEvents.Log.Events.LogEvent("2", "/t", "t") { DataContentType = "application/json", Data = BinaryData.FromString("""{"a": true}""") }));
    }
}
