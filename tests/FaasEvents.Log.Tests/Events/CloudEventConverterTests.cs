using System.Text;
using System.Text.Json.Nodes;
using FaasEvents.Log.Events;

namespace FaasEvents.Log.Tests.Events;

public class CloudEventConverterTests
{
    [Fact]
    public void Structured_json_round_trips_with_typed_extensions_and_key()
    {
        var e = new LogEvent("id-1", "/src", "t") { PartitionKey = "k1", DataContentType = "application/json", Data = BinaryData.FromString("{\"a\":1}"), Time = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero) };
        e.Extensions["attempts"] = 4;
        e.Extensions["retried"] = true;
        e.Extensions["note"] = "x";
        JsonObject json = CloudEventConverter.ToStructuredJson(new StoredEvent(3, 42, DateTimeOffset.UnixEpoch, e));

        Assert.Equal(3, (int)json["partition"]!);
        Assert.Equal(42, (long)json["offset"]!);
        Assert.Equal("k1", (string)json["partitionkey"]!);
        Assert.Equal(4, (int)json["attempts"]!);
        Assert.True((bool)json["retried"]!);
        Assert.Equal(1, (int)json["data"]!["a"]!);

        json.Remove("partition");
        json.Remove("offset");
        LogEvent back = CloudEventConverter.ParseStructuredJson(Encoding.UTF8.GetBytes(json.ToJsonString()));
        Assert.Equal(("id-1", "/src", "t", "k1"), (back.Id, back.Source, back.Type, back.PartitionKey));
        Assert.Equal("{\"a\":1}", back.Data!.ToString());
        Assert.False(back.Extensions.ContainsKey("partitionkey"));
    }

    [Theory]
    [InlineData("{\"specversion\":\"1.0\",\"id\":\"1\",\"type\":\"t\"}", "source")]
    [InlineData("{\"specversion\":\"0.3\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\"}", "0.3")]
    [InlineData("not json", "Invalid CloudEvent JSON")]
    public void Malformed_cloudevents_are_named(string json, string expected)
    {
        EventLogException ex = Assert.Throws<EventLogException>(() => CloudEventConverter.ParseStructuredJson(Encoding.UTF8.GetBytes(json)));
        Assert.Equal(EventLogErrorReason.InvalidArgument, ex.Reason);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_null_data_is_a_tombstone()
    {
        LogEvent e = CloudEventConverter.ParseStructuredJson(Encoding.UTF8.GetBytes("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\",\"partitionkey\":\"book-1\",\"datacontenttype\":\"application/json\",\"data\":null}"));
        Assert.True(e.IsTombstone);
        Assert.Equal("book-1", e.PartitionKey);
    }
}
