using Azure.Storage.Blobs.Models;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.State;
using FaasEvents.TestSupport;
using FsCheck;
using FsCheck.Fluent;

namespace FaasEvents.Log.Tests.State;

/// <summary>Exactly-once partition state: chained snapshots/deltas committed with the checkpoint, fenced by the lease.</summary>
public class StateStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(15);

    private static BinaryData V(string s) => BinaryData.FromString(s);

    private static Dictionary<string, string> Plain(RestoredState r) => r.Table.ToDictionary(kv => kv.Key, kv => kv.Value.ToString());

    [Fact]
    public async Task Deltas_and_snapshots_restore_the_table_with_its_offset()
    {
        EventLogClient log = azurite.CreateClient();
        PartitionLease lease = (await log.CreateLeaseClient("a").TryAcquireAsync("books", "catalog", 0, Lease))!;
        PartitionStateStore store = log.CreateStateStore("books", "catalog", 0);
        RestoredState empty = await store.RestoreAsync();
        Assert.Equal((0, (long?)null, 0), (empty.Table.Count, empty.NextOffset, empty.ChainLength));

        await store.CommitAsync(new Dictionary<string, BinaryData?> { ["isbn-1"] = V("Dune"), ["isbn-2"] = V("Emma") }, 2, lease);
        await store.CommitAsync(new Dictionary<string, BinaryData?> { ["isbn-1"] = V("Dune (2nd ed.)"), ["isbn-3"] = V("Ulysses") }, 5, lease);
        await store.CommitAsync(new Dictionary<string, BinaryData?> { ["isbn-2"] = null }, 6, lease); // tombstone deletes

        RestoredState r = await log.CreateStateStore("books", "catalog", 0).RestoreAsync();
        Assert.Equal(new Dictionary<string, string> { ["isbn-1"] = "Dune (2nd ed.)", ["isbn-3"] = "Ulysses" }, Plain(r));
        Assert.Equal((6L, 3), (r.NextOffset!.Value, r.ChainLength));
        Assert.Equal(6, (await log.Checkpoints.GetAsync("books", "catalog", 0))!.NextOffset); // state and offset moved together

        // Consolidation: after a full snapshot a restore reads one blob, whatever the history.
        await store.CommitSnapshotAsync(r.Table, 7, lease);
        await store.CommitAsync(new Dictionary<string, BinaryData?> { ["isbn-4"] = V("Middlemarch") }, 8, lease);
        RestoredState after = await log.CreateStateStore("books", "catalog", 0).RestoreAsync();
        Assert.Equal(2, after.ChainLength);
        Assert.Equal(3, after.Table.Count);

        // The sweep removes what the committed chain no longer needs (the three deltas before the snapshot).
        Assert.Equal(3, await store.SweepAsync());
        var left = new List<string>();
        await foreach (Azure.Storage.Blobs.Models.BlobItem b in log.Container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "state/books/catalog/", default))
        {
            left.Add(b.Name);
        }

        Assert.Equal(2, left.Count); // the snapshot and the delta after it
        Assert.Equal(Plain(after), Plain(await log.CreateStateStore("books", "catalog", 0).RestoreAsync()));
    }

    [Fact]
    public async Task A_stale_owner_cannot_commit_and_its_written_state_is_never_read()
    {
        EventLogClient log = azurite.CreateClient();
        PartitionLease a = (await log.CreateLeaseClient("a").TryAcquireAsync("inv", "sales", 0, Lease))!;
        PartitionStateStore storeA = log.CreateStateStore("inv", "sales", 0);
        await storeA.RestoreAsync();
        await storeA.CommitAsync(new Dictionary<string, BinaryData?> { ["sku-1"] = V("10") }, 1, a);

        // b takes the partition over (load balancing), restores a's committed state and moves on.
        PartitionLease b = (await log.CreateLeaseClient("b").TryStealAsync("inv", "sales", 0, Lease))!;
        PartitionStateStore storeB = log.CreateStateStore("inv", "sales", 0);
        Assert.Equal("10", (await storeB.RestoreAsync()).Table["sku-1"].ToString());
        await storeB.CommitAsync(new Dictionary<string, BinaryData?> { ["sku-1"] = V("9") }, 2, b);

        // a, not knowing yet, applies the same event again and tries to commit: refused.
        EventLogException ex = await Assert.ThrowsAsync<EventLogException>(() => storeA.CommitAsync(new Dictionary<string, BinaryData?> { ["sku-1"] = V("9") }, 2, a));
        Assert.Equal(EventLogErrorReason.LeaseLost, ex.Reason);
        int blobs = await log.Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "state/inv/sales/", CancellationToken.None).CountAsync();
        Assert.Equal(3, blobs); // a's uncommitted blob exists ...

        RestoredState r = await log.CreateStateStore("inv", "sales", 0).RestoreAsync();
        Assert.Equal(("9", 2L, 2), (r.Table["sku-1"].ToString(), r.NextOffset!.Value, r.ChainLength)); // ... but is never read: no double apply
    }

    [Fact]
    public async Task A_corrupt_state_blob_fails_the_restore_naming_it()
    {
        EventLogClient log = azurite.CreateClient();
        PartitionLease lease = (await log.CreateLeaseClient("a").TryAcquireAsync("g", "s", 0, Lease))!;
        PartitionStateStore store = log.CreateStateStore("g", "s", 0);
        await store.CommitAsync(new Dictionary<string, BinaryData?> { ["k"] = V("value") }, 1, lease);
        string tip = (await log.Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "state/g/s/", CancellationToken.None).FirstAsync()).Name;
        byte[] bytes = (await log.Container.GetBlobClient(tip).DownloadContentAsync()).Value.Content.ToArray();
        bytes[22] ^= 1;
        await log.Container.GetBlobClient(tip).UploadAsync(new BinaryData(bytes), overwrite: true);

        EventLogException ex = await Assert.ThrowsAsync<EventLogException>(() => log.CreateStateStore("g", "s", 0).RestoreAsync());
        Assert.Equal(EventLogErrorReason.CorruptData, ex.Reason);
        Assert.Contains(tip, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Any_sequence_of_upserts_deletes_commits_and_snapshots_restores_to_the_model()
    {
        EventLogClient log = azurite.CreateClient();
        int run = 0;
        Gen<(int Key, int? Value, int Boundary)> op = Gen.Choose(0, 7).SelectMany(k => Gen.Choose(-2, 9).SelectMany(v => Gen.Choose(0, 9).Select(b => (k, v < 0 ? (int?)null : v, b))));
        Arbitrary<(int Key, int? Value, int Boundary)[]> ops = Gen.Choose(1, 40).SelectMany(n => Gen.ArrayOf(op, n)).ToArbitrary();
        var failures = new List<string>();
        Prop.ForAll(ops, sequence =>
        {
            string group = $"m{run++}";
            PartitionLease lease = log.CreateLeaseClient("x").TryAcquireAsync(group, "s", 0, Lease).GetAwaiter().GetResult()!;
            PartitionStateStore store = log.CreateStateStore(group, "s", 0);
            var model = new Dictionary<string, string>();
            var pending = new Dictionary<string, BinaryData?>();
            long offset = 0;
            foreach ((int key, int? value, int boundary) in sequence)
            {
                string k = $"key-{key}";
                offset++;
                if (value is null)
                {
                    model.Remove(k);
                    pending[k] = null;
                }
                else
                {
                    model[k] = value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    pending[k] = V(model[k]);
                }

                if (boundary == 0)
                {
                    store.CommitSnapshotAsync(model.ToDictionary(kv => kv.Key, kv => V(kv.Value)), offset, lease).GetAwaiter().GetResult();
                    pending.Clear();
                }
                else if (boundary < 4)
                {
                    store.CommitAsync(new Dictionary<string, BinaryData?>(pending), offset, lease).GetAwaiter().GetResult();
                    pending.Clear();
                }
            }

            if (pending.Count > 0)
            {
                store.CommitAsync(new Dictionary<string, BinaryData?>(pending), offset, lease).GetAwaiter().GetResult();
            }

            RestoredState r = log.CreateStateStore(group, "s", 0).RestoreAsync().GetAwaiter().GetResult();
            bool equal = Plain(r).OrderBy(kv => kv.Key).SequenceEqual(model.OrderBy(kv => kv.Key)) && r.NextOffset == offset;
            if (!equal)
            {
                failures.Add(string.Join(",", sequence));
            }

            return equal;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(25));
        Assert.Empty(failures);
    }
}
