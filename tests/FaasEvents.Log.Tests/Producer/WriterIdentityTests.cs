using FaasEvents.Log.Producer;

namespace FaasEvents.Log.Tests.Producer;

public class WriterIdentityTests
{
    [Fact]
    public void A_writer_id_depends_only_on_role_group_stream_and_partition()
    {
        Guid id = WriterIdentity.For("out", "order-audit", "orders", 3);

        Assert.Equal(id, WriterIdentity.For("out", "order-audit", "orders", 3)); // any instance, any restart
        Guid[] others = [WriterIdentity.For("dlq", "order-audit", "orders", 3), WriterIdentity.For("out", "order-billing", "orders", 3), WriterIdentity.For("out", "order-audit", "orders2", 3), WriterIdentity.For("out", "order-audit", "orders", 4)];
        Assert.Equal(5, others.Append(id).Distinct().Count()); // each part of the name matters
        Assert.Equal('8', id.ToString("D")[14]); // version 8 (name-based, custom hash)
        Assert.Contains(id.ToString("D")[19], "89ab"); // RFC 4122 variant
    }

    [Fact]
    public void Sequences_order_by_input_offset_then_output_index_and_name_the_event()
    {
        Assert.True(WriterIdentity.Sequence(7, 65_535) < WriterIdentity.Sequence(8, 0));
        Assert.Equal((7L << 16) | 2, WriterIdentity.Sequence(7, 2));
        Guid writer = WriterIdentity.For("out", "g", "s", 0);
        Assert.Equal($"{writer:N}-70002", WriterIdentity.EventId(writer, WriterIdentity.Sequence(7, 2)));

        EventLogException tooMany = Assert.Throws<EventLogException>(() => WriterIdentity.Sequence(7, WriterIdentity.MaxOutputsPerInput));
        Assert.Contains("at most 65,536 outputs", tooMany.Message, StringComparison.Ordinal);
    }
}
