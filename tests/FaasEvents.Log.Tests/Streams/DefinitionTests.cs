using FaasEvents.Log.Consumers;
using FaasEvents.Log.Streams;

namespace FaasEvents.Log.Tests.Streams;

public class DefinitionTests
{
    [Theory]
    [InlineData("7d", 7 * 24 * 3600, null)]
    [InlineData("12h", 12 * 3600, null)]
    [InlineData("30m", 1800, null)]
    [InlineData("90s", 90, null)]
    [InlineData("10GiB", null, 10L * 1024 * 1024 * 1024)]
    [InlineData("500MB", null, 500_000_000L)]
    [InlineData("7d,1GiB", 7 * 24 * 3600, 1L << 30)]
    public void Retention_parses(string text, int? seconds, long? bytes)
    {
        RetentionPolicy r = RetentionPolicy.Parse(text);
        Assert.Equal(seconds is null ? null : TimeSpan.FromSeconds(seconds.Value), r.MaxAge);
        Assert.Equal(bytes, r.MaxBytes);
        Assert.Equal(r, RetentionPolicy.Parse(r.ToString()));
    }

    [Fact]
    public void Infinite_retention_is_the_default() => Assert.True(RetentionPolicy.Parse("infinite").IsInfinite);

    [Theory]
    [InlineData("7 days")]
    [InlineData("-1d")]
    [InlineData("0h")]
    [InlineData("12parsecs")]
    public void Bad_retention_is_named(string text)
    {
        EventLogException ex = Assert.Throws<EventLogException>(() => RetentionPolicy.Parse(text));
        Assert.Equal(EventLogErrorReason.InvalidArgument, ex.Reason);
        Assert.Contains(text, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("orders")]
    [InlineData("orders.billing.deadletter")]
    [InlineData("A_b-9")]
    public void Good_names_pass(string name) => StreamDefinition.ValidateName(name, "stream");

    [Theory]
    [InlineData("")]
    [InlineData("-x")]
    [InlineData(".hidden")]
    [InlineData("a/b")]
    [InlineData("with space")]
    [InlineData("ünicode")]
    public void Bad_names_are_named_in_the_error(string name)
    {
        EventLogException ex = Assert.Throws<EventLogException>(() => StreamDefinition.ValidateName(name, "stream"));
        Assert.Contains("stream name", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1025)]
    public void Partition_count_is_bounded(int partitions)
    {
        var def = new StreamDefinition { Name = "s", Partitions = partitions };
        EventLogException ex = Assert.Throws<EventLogException>(def.Validate);
        Assert.Contains("partitions must be between 1 and 1024", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lag_never_negative_and_missing_checkpoint_follows_initial_offset()
    {
        var p = new PartitionInfo(0, EarliestOffset: 10, EndOffset: 50, Segments: 1, Bytes: 1, LastAppend: null);
        Assert.Equal(40, PartitionLag.Compute(p, null, InitialOffset.Earliest).Lag);
        Assert.Equal(0, PartitionLag.Compute(p, null, InitialOffset.Latest).Lag);
        Assert.Equal(40, PartitionLag.Compute(p, 3, InitialOffset.Earliest).Lag); // below retention: from earliest
        Assert.Equal(0, PartitionLag.Compute(p, 70, InitialOffset.Earliest).Lag);
        var empty = new PartitionInfo(1, 0, 0, 0, 0, null);
        Assert.Equal(0, PartitionLag.Compute(empty, null, InitialOffset.Earliest).Lag);
    }
}
