using FaasEvents.Log.Consumers;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace FaasEvents.Log.Tests.Streams;

/// <summary>
/// Retention and compaction passes are recorded for <c>faas streams describe</c>: what the last one removed (or why
/// it failed), a quiet pass at most every few hours, and nothing of a deleted stream's passes shows on a new stream
/// of the same name.
/// </summary>
public class StreamPassTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task A_retention_pass_is_recorded_with_what_it_removed_and_a_quiet_one_only_every_few_hours()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { TimeProvider = clock });
        await log.CreateStreamAsync(new StreamDefinition { Name = "passes", SegmentMaxBlocks = 1, Retention = RetentionPolicy.Parse("1h") });
        Assert.Empty(await log.GetLastPassesAsync("passes"));
        await using (EventProducerClient producer = log.CreateProducer("passes", new EventProducerOptions { Linger = TimeSpan.Zero }))
        {
            for (int i = 0; i < 5; i++)
            {
                await producer.SendAsync(TestEvents.Json($"e{i}"));
            }
        }

        clock.Advance(TimeSpan.FromHours(2));
        IReadOnlyList<DeletedSegment> deleted = await log.ApplyRetentionAsync("passes");
        StreamPass pass = Assert.Single(await log.GetLastPassesAsync("passes"));
        Assert.Equal((StreamPass.Retention, clock.GetUtcNow(), (long)deleted.Count, deleted.Sum(d => d.NextOffset - d.BaseOffset), deleted.Sum(d => d.Bytes), (string?)null), (pass.Kind, pass.At, pass.Segments, pass.Events, pass.Bytes, pass.Error));
        Assert.Equal(4, pass.Segments); // every segment but the active one

        clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Empty(await log.ApplyRetentionAsync("passes"));
        Assert.Equal(pass, Assert.Single(await log.GetLastPassesAsync("passes"))); // a quiet pass soon after is not written
        clock.Advance(StreamPassRecorder.QuietInterval);
        Assert.Empty(await log.ApplyRetentionAsync("passes"));
        StreamPass quiet = Assert.Single(await log.GetLastPassesAsync("passes"));
        Assert.Equal((clock.GetUtcNow(), 0L, 0L), (quiet.At, quiet.Segments, quiet.Events)); // hours later it is, so describe shows the schedule runs
    }

    [Fact]
    public async Task A_stream_created_again_shows_none_of_the_deleted_streams_passes()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "again", Kind = StreamKind.Entities });
        await log.CompactAsync("again");
        Assert.Equal(StreamPass.Compaction, Assert.Single(await log.GetLastPassesAsync("again")).Kind);

        await log.DeleteStreamAsync("again");
        await log.CreateStreamAsync(new StreamDefinition { Name = "again", Kind = StreamKind.Entities });
        Assert.Empty(await log.GetLastPassesAsync("again"));
    }

    [Fact]
    public async Task A_record_left_behind_by_a_pass_racing_the_delete_is_ignored_by_the_new_stream()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "raced", Kind = StreamKind.Entities });
        await log.CompactAsync("raced");
        Azure.Storage.Blobs.BlobClient record = log.Container.GetBlobClient("maintenance/raced/compaction.json");
        BinaryData kept = (await record.DownloadContentAsync()).Value.Content;
        await log.DeleteStreamAsync("raced");
        await record.UploadAsync(kept); // the pass's write landed after the delete removed the records

        await log.CreateStreamAsync(new StreamDefinition { Name = "raced", Kind = StreamKind.Entities }); // not taken for leftover segments
        Assert.Empty(await log.GetLastPassesAsync("raced"));
    }
}
