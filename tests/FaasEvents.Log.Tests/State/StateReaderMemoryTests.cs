using System.Globalization;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.State;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using Xunit.Abstractions;

namespace FaasEvents.Log.Tests.State;

/// <summary>Runs alone: it measures the process's managed heap, which tests running beside it would disturb.</summary>
[CollectionDefinition(nameof(StateMemory), DisableParallelization = true)]
public sealed class StateMemory;

/// <summary>
/// Reading a materializer's committed state from storage (a partition this instance does not own) is bounded in
/// memory: point reads and scans read the part of the state they need, not the whole table (issue 12, defect 11).
/// </summary>
[Collection(nameof(StateMemory))]
public class StateReaderMemoryTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int Keys = 200_000;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(15);

    private static string Key(int i) => $"sku-{i:D7}";

    private static BinaryData Value(int i) => BinaryData.FromString($$"""{"n":{{i}},"name":"item {{i}} with a name of some length"}""");

    [Fact]
    public async Task Point_reads_and_scans_of_a_large_table_keep_the_readers_memory_bounded()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "big", Partitions = 1, Kind = StreamKind.Entities });
        PartitionLease lease = (await log.CreateLeaseClient("writer").TryAcquireAsync("catalog", "big", 0, Lease))!;
        PartitionStateStore store = log.CreateStateStore("catalog", "big", 0);
        await store.RestoreAsync();
        await store.CommitSnapshotAsync(Enumerable.Range(0, Keys).ToDictionary(Key, Value, StringComparer.Ordinal), 1, lease);
        await store.CommitAsync(new Dictionary<string, BinaryData?> { [Key(7)] = BinaryData.FromString("\"changed\""), [Key(8)] = null }, 2, lease);

        StateReader reader = log.CreateStateReader("catalog", "big");
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var random = new Random(3);
        for (int n = 0; n < 50; n++)
        {
            int i = random.Next(10, Keys);
            Assert.Equal(Value(i).ToString(), (await reader.GetAsync(Key(i))).Value?.ToString());
        }

        Assert.Equal("\"changed\"", (await reader.GetAsync(Key(7))).Value?.ToString()); // the delta wins
        Assert.Null((await reader.GetAsync(Key(8))).Value); // deleted by the delta
        Assert.Equal(2, (await reader.GetAsync(Key(9))).NextOffset);
        StatePage page = await reader.ScanAsync(prefix: "sku-001", limit: 100);
        Assert.Equal(Enumerable.Range(10_000, 100).Select(Key), page.Items.Select(kv => kv.Key));
        StatePage around = await reader.ScanAsync(after: Key(5), limit: 4);
        Assert.Equal([Key(6), Key(7), Key(9), Key(10)], around.Items.Select(kv => kv.Key)); // 8 deleted, 7 changed
        Assert.Equal("\"changed\"", around.Items[1].Value.ToString());
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(reader);

        double grownMiB = (after - before) / 1048576.0;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Keys:N0} keys: the reader holds {grownMiB:0.00} MiB after 53 point reads and 2 scans ({grownMiB * 1_000_000 / Keys:0.00} MiB per million keys)"));
        Assert.True(grownMiB < 4, $"the reader holds {grownMiB:0.0} MiB after reading a few keys of a {Keys:N0}-key table: it keeps the whole table");
    }

    [Fact]
    public async Task State_committed_in_the_version_1_format_still_restores_and_reads()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "old", Partitions = 1, Kind = StreamKind.Entities });
        PartitionLease lease = (await log.CreateLeaseClient("writer").TryAcquireAsync("legacy", "old", 0, Lease))!;
        string name = "state/legacy/old/00000/00000000000000000005-full-abcdef12";
        await log.Container.GetBlobClient(name).UploadAsync(new BinaryData(Version1([("a", "1"), ("b", "2"), ("c", "3")], nextOffset: 5)), new Azure.Storage.Blobs.Models.BlobUploadOptions { Metadata = new Dictionary<string, string> { ["prev"] = "", ["kind"] = "full" } });
        Assert.True(await log.Checkpoints.CommitStateAsync("legacy", "old", 0, 5, null, name, null, null, lease, CancellationToken.None));

        PartitionStateStore store = log.CreateStateStore("legacy", "old", 0);
        RestoredState restored = await store.RestoreAsync();
        Assert.Equal(["a=1", "b=2", "c=3"], restored.Table.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
        await store.CommitAsync(new Dictionary<string, BinaryData?> { ["b"] = null, ["d"] = BinaryData.FromString("4") }, 6, lease); // a version 2 delta on a version 1 snapshot

        StateReader reader = log.CreateStateReader("legacy", "old");
        Assert.Equal("1", (await reader.GetAsync("a")).Value?.ToString());
        Assert.Null((await reader.GetAsync("b")).Value);
        Assert.Equal(["a", "c", "d"], (await reader.ScanAsync()).Items.Select(kv => kv.Key));
        Assert.Equal(["a=1", "c=3", "d=4"], (await log.CreateStateStore("legacy", "old", 0).RestoreAsync()).Table.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
    }

    /// <summary>A state blob as version 1 wrote it (docs/storage-format.md): header, entries, CRC-32 of everything before.</summary>
    private static byte[] Version1(IReadOnlyList<(string Key, string Value)> entries, long nextOffset)
    {
        using var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write("FES1"u8);
        w.Write((byte)1);
        w.Write((byte)1);
        w.Write((short)0);
        w.Write(nextOffset);
        w.Write(entries.Count);
        foreach ((string key, string value) in entries)
        {
            byte[] k = System.Text.Encoding.UTF8.GetBytes(key);
            byte[] v = System.Text.Encoding.UTF8.GetBytes(value);
            w.Write((ushort)k.Length);
            w.Write(k);
            w.Write((byte)1);
            w.Write(v.Length);
            w.Write(v);
        }

        w.Flush();
        w.Write(System.IO.Hashing.Crc32.HashToUInt32(ms.ToArray()));
        return ms.ToArray();
    }
}
