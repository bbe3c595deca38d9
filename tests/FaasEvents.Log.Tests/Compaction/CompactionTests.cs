using FaasEvents.Log.Compaction;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Storage;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;
using FaasEvents.TestSupport.Faults;
using FsCheck;
using FsCheck.Fluent;

namespace FaasEvents.Log.Tests.Compaction;

/// <summary>Log compaction of entity streams: latest per key kept, offsets unchanged, crash-safe at every step.</summary>
public class CompactionTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    /// <summary>Produces (key, value or tombstone) operations in batches of 10, so small segments roll often.</summary>
    private static async Task<List<LogEvent>> ProduceAsync(EventLogClient log, string stream, IEnumerable<(string Key, string? Value)> ops)
    {
        var sent = new List<LogEvent>();
        await using EventProducerClient producer = log.CreateProducer(stream);
        foreach ((string Key, string? Value)[] chunk in ops.Chunk(10))
        {
            LogEvent[] batch = chunk.Select((op, i) => new LogEvent($"{op.Key}-{sent.Count + i}", "/t", op.Value is null ? "deleted" : "upserted")
            {
                PartitionKey = op.Key,
                Data = op.Value is null ? null : BinaryData.FromString(op.Value),
            }).ToArray();
            await producer.SendBatchAsync(batch);
            sent.AddRange(batch);
        }

        return sent;
    }

    private static Task CreateAsync(EventLogClient log, string stream, int partitions = 2, StreamKind kind = StreamKind.Entities) =>
        log.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = partitions, Kind = kind, SegmentMaxBlocks = 3 });

    /// <summary>Reads every partition from earliest and checks the invariants a compacted log must keep.</summary>
    private static async Task<Dictionary<string, string>> FoldAndCheckAsync(EventLogClient log, string stream, Dictionary<long, LogEvent>[] originals)
    {
        var table = new Dictionary<string, string>();
        for (int p = 0; p < originals.Length; p++)
        {
            long previous = -1;
            await foreach (StoredEvent e in log.ReadPartitionAsync(stream, p))
            {
                Assert.True(e.Offset > previous, $"partition {p}: offset {e.Offset} after {previous} (duplicated or out of order)");
                previous = e.Offset;
                LogEvent original = originals[p][e.Offset];
                Assert.Equal(original.Id, e.Event.Id); // offsets never change: the event at an offset is the one appended there
                Assert.Equal(original.Data?.ToString(), e.Event.Data?.ToString());
                if (e.Event.Data is null)
                {
                    table.Remove(e.Event.PartitionKey!);
                }
                else
                {
                    table[e.Event.PartitionKey!] = e.Event.Data.ToString();
                }
            }
        }

        return table;
    }

    private static async Task<Dictionary<long, LogEvent>[]> OriginalsAsync(EventLogClient log, string stream, int partitions)
    {
        var result = new Dictionary<long, LogEvent>[partitions];
        for (int p = 0; p < partitions; p++)
        {
            result[p] = [];
            await foreach (StoredEvent e in log.ReadPartitionAsync(stream, p))
            {
                result[p][e.Offset] = e.Event;
            }
        }

        return result;
    }

    private static Dictionary<string, string> Model(IEnumerable<(string Key, string? Value)> ops)
    {
        var model = new Dictionary<string, string>();
        foreach ((string key, string? value) in ops)
        {
            if (value is null)
            {
                model.Remove(key);
            }
            else
            {
                model[key] = value;
            }
        }

        return model;
    }

    private static List<(string Key, string? Value)> Ops(int count, int keys, int seed)
    {
        // A key deleted early and never written again: its tombstone is the latest and lands in a closed segment.
        var random = new Random(seed);
        return new[] { ("gone", (string?)"x"), ("gone", null) }.Concat(Enumerable.Range(0, count).Select(i => ($"k{random.Next(keys)}", random.Next(8) == 0 ? null : $"v{i}")).Select(x => (x.Item1, (string?)x.Item2))).ToList();
    }

    [Fact]
    public async Task Compaction_keeps_the_latest_per_key_with_unchanged_offsets_lag_and_appends()
    {
        EventLogClient log = azurite.CreateClient();
        await CreateAsync(log, "books");
        List<(string Key, string? Value)> ops = Ops(600, 25, 1);
        await ProduceAsync(log, "books", ops);
        Dictionary<long, LogEvent>[] originals = await OriginalsAsync(log, "books", 2);
        IReadOnlyList<PartitionInfo> before = await log.GetPartitionsAsync("books");
        await log.Checkpoints.UpdateAsync("readers", "books", 0, 17);
        long lagBefore = (await log.GetLagAsync("books", "readers")).TotalLag;

        IReadOnlyList<PartitionCompaction> result = await log.CompactAsync("books", new CompactionOptions { DeleteRetention = TimeSpan.Zero });

        Assert.Equal(Model(ops), await FoldAndCheckAsync(log, "books", originals)); // lost: nothing
        Assert.All(result, r => Assert.True(r.EventsKept < r.EventsRead && r.BytesAfter < r.BytesBefore, $"partition {r.Partition} kept {r.EventsKept}/{r.EventsRead}"));
        Assert.True(result.Sum(r => r.TombstonesRemoved) > 0);
        Assert.Equal(before.Select(p => (p.EarliestOffset, p.EndOffset)), (await log.GetPartitionsAsync("books")).Select(p => (p.EarliestOffset, p.EndOffset)));
        Assert.Equal(lagBefore, (await log.GetLagAsync("books", "readers")).TotalLag); // lag counts offsets, and offsets did not move

        // Closed segments now hold one event per key at most; only the active segment may repeat a key.
        for (int p = 0; p < 2; p++)
        {
            List<SegmentInfo> segments = await log.Segments.ListSegmentsAsync("books", p, default);
            Assert.Equal(segments.Count, (await log.Segments.ListRawSegmentsAsync("books", p, default)).Count); // replaced segments are gone
            var closedKeys = new List<string>();
            await foreach (StoredEvent e in log.ReadPartitionAsync("books", p, new ReadOptions { EndOffset = segments[^1].BaseOffset }))
            {
                closedKeys.Add(e.Event.PartitionKey!);
            }

            Assert.Equal(closedKeys.Count, closedKeys.Distinct().Count());
        }

        // Appends continue at the same offsets; a second compaction changes nothing already compact.
        List<(string Key, string? Value)> more = Ops(100, 25, 2);
        List<LogEvent> sent = await ProduceAsync(log, "books", more);
        originals = await OriginalsAsync(log, "books", 2);
        Assert.Equal(before.Sum(p => p.EndOffset) + more.Count, (await log.GetPartitionsAsync("books")).Sum(p => p.EndOffset));
        await log.CompactAsync("books", new CompactionOptions { DeleteRetention = TimeSpan.Zero });
        Assert.Equal(Model(ops.Concat(more)), await FoldAndCheckAsync(log, "books", originals));
    }

    [Theory]
    [InlineData(FaultKind.DropResponse)]
    [InlineData(FaultKind.ForwardThen500)]
    public async Task A_swap_whose_commit_landed_unheard_shows_the_compacted_view_once_and_the_next_run_clears_the_old_segments(FaultKind kind)
    {
        var faults = new StorageFaultInjector();
        EventLogClient log = azurite.CreateClient(new EventLogClientOptions { StorageOptions = faults.CreateOptions() });
        string stream = "swap-" + (int)kind;
        await CreateAsync(log, stream);
        List<(string Key, string? Value)> ops = Ops(400, 20, 4);
        await ProduceAsync(log, stream, ops);
        Dictionary<long, LogEvent>[] originals = await OriginalsAsync(log, stream, 2);

        faults.Once(StorageOperation.PutBlockList, kind); // the switch to the compacted segment happens; its answer is lost
        await log.CompactAsync(stream, new CompactionOptions { DeleteRetention = TimeSpan.Zero });

        Assert.Equal(1, faults.Total);
        Assert.Equal(Model(ops), await FoldAndCheckAsync(log, stream, originals)); // lost 0, duplicated 0, offsets unchanged
        await log.CompactAsync(stream, new CompactionOptions { DeleteRetention = TimeSpan.Zero });
        for (int p = 0; p < 2; p++)
        {
            Assert.Equal((await log.Segments.ListSegmentsAsync(stream, p, default)).Count, (await log.Segments.ListRawSegmentsAsync(stream, p, default)).Count);
        }

        Assert.Equal(Model(ops), await FoldAndCheckAsync(log, stream, originals));
    }

    [Fact]
    public async Task Young_events_and_recent_tombstones_are_kept_and_event_streams_are_refused()
    {
        EventLogClient log = azurite.CreateClient();
        await CreateAsync(log, "young");
        List<(string Key, string? Value)> ops = Ops(200, 10, 3);
        await ProduceAsync(log, "young", ops);
        IReadOnlyList<PartitionCompaction> lagged = await log.CompactAsync("young", new CompactionOptions { MinCompactionLag = TimeSpan.FromHours(1) });
        Assert.All(lagged, r => Assert.Equal(r.EventsRead, r.EventsKept)); // every event is younger than the lag: all kept

        IReadOnlyList<PartitionCompaction> retained = await log.CompactAsync("young"); // default deleteRetention 24 h
        Assert.Equal(0, retained.Sum(r => r.TombstonesRemoved));
        int latestTombstones = 0;
        for (int p = 0; p < 2; p++)
        {
            var last = new Dictionary<string, bool>();
            await foreach (StoredEvent e in log.ReadPartitionAsync("young", p))
            {
                last[e.Event.PartitionKey!] = e.Event.Data is null;
            }

            latestTombstones += last.Count(kv => kv.Value);
        }

        Assert.True(latestTombstones > 0, "the deletes are still visible to consumers");

        await CreateAsync(log, "plain", kind: StreamKind.Events);
        EventLogException ex = await Assert.ThrowsAsync<EventLogException>(() => log.CompactAsync("plain"));
        Assert.Contains("holds events, not entities", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_crash_at_any_step_of_the_rewrite_leaves_a_readable_log_and_a_rerun_finishes()
    {
        EventLogClient log = azurite.CreateClient();
        List<(string Key, string? Value)> ops = Ops(120, 8, 4);
        Dictionary<string, string> model = Model(ops);

        // Count the steps of one full compaction, then crash at each of them in turn on a fresh stream.
        int steps = 0;
        await CreateAsync(log, "crash-count", partitions: 1);
        await ProduceAsync(log, "crash-count", ops);
        await log.CompactAsync("crash-count", new CompactionOptions { DeleteRetention = TimeSpan.Zero, OnStep = (_, _) => { steps++; return Task.CompletedTask; } });
        Assert.True(steps >= 6, $"expected scan, stage, commit and several deletes; saw {steps} steps");

        for (int crashAt = 1; crashAt <= steps; crashAt++)
        {
            string stream = $"crash-{crashAt}";
            await CreateAsync(log, stream, partitions: 1);
            await ProduceAsync(log, stream, ops);
            Dictionary<long, LogEvent>[] originals = await OriginalsAsync(log, stream, 1);
            int seen = 0;
            var options = new CompactionOptions
            {
                DeleteRetention = TimeSpan.Zero,
                OnStep = (step, what) => ++seen == crashAt ? throw new IOException($"simulated crash after {step} ({what})") : Task.CompletedTask,
            };
            await Assert.ThrowsAsync<IOException>(() => log.CompactAsync(stream, options));

            Assert.Equal(model, await FoldAndCheckAsync(log, stream, originals)); // after the crash: old or new, never a mix

            await log.CompactAsync(stream, new CompactionOptions { DeleteRetention = TimeSpan.Zero });
            Assert.Equal(model, await FoldAndCheckAsync(log, stream, originals)); // after the rerun
            Assert.Equal((await log.Segments.ListSegmentsAsync(stream, 0, default)).Count, (await log.Segments.ListRawSegmentsAsync(stream, 0, default)).Count); // leftovers cleaned
        }
    }

    [Fact]
    public async Task A_stream_deleted_while_it_is_compacted_stops_the_compaction_and_leaves_nothing_behind()
    {
        EventLogClient log = azurite.CreateClient();
        await CreateAsync(log, "deleted-midway", partitions: 2);
        await ProduceAsync(log, "deleted-midway", Ops(120, 8, 4));
        var options = new CompactionOptions
        {
            DeleteRetention = TimeSpan.Zero,
            OnStep = async (step, _) =>
            {
                if (step == CompactionStep.Scanned)
                {
                    await log.DeleteStreamAsync("deleted-midway"); // e.g. faas streams delete while the compaction service runs
                }
            },
        };

        EventLogException ex = await Assert.ThrowsAsync<EventLogException>(() => log.CompactAsync("deleted-midway", options));

        Assert.Equal(EventLogErrorReason.StreamNotFound, ex.Reason);
        Assert.Empty(log.Container.GetBlobs(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "streams/deleted-midway/", CancellationToken.None)); // no compacted segment written after the delete
        await CreateAsync(log, "deleted-midway", partitions: 2); // the name can be used again at once
    }

    [Fact]
    public async Task Two_compactors_racing_with_a_reader_leave_one_consistent_log()
    {
        EventLogClient log = azurite.CreateClient();
        await CreateAsync(log, "race");
        List<(string Key, string? Value)> ops = Ops(400, 12, 6);
        await ProduceAsync(log, "race", ops);
        Dictionary<long, LogEvent>[] originals = await OriginalsAsync(log, "race", 2);
        var options = new CompactionOptions { DeleteRetention = TimeSpan.Zero };
        EventLogClient other = azurite.CreateClientFor(log); // a second server replica: its own client and caches

        Task<Dictionary<string, string>> reader = FoldAndCheckAsync(log, "race", originals);
        await Task.WhenAll(log.CompactAsync("race", options), other.CompactAsync("race", options), reader);
        Assert.Equal(Model(ops), await reader); // a reader during the race: nothing lost, nothing repeated
        Assert.Equal(Model(ops), await FoldAndCheckAsync(log, "race", originals));

        await log.CompactAsync("race", options); // cleans what the loser left
        for (int p = 0; p < 2; p++)
        {
            Assert.Equal((await log.Segments.ListSegmentsAsync("race", p, default)).Count, (await log.Segments.ListRawSegmentsAsync("race", p, default)).Count);
        }

        Assert.Equal(Model(ops), await FoldAndCheckAsync(log, "race", originals));
    }

    [Fact]
    public async Task A_reader_in_the_middle_of_a_segment_that_compaction_replaces_continues_without_repeats()
    {
        EventLogClient log = azurite.CreateClient();
        await CreateAsync(log, "midway", partitions: 1);
        List<(string Key, string? Value)> ops = Ops(150, 6, 5);
        await ProduceAsync(log, "midway", ops);
        Dictionary<long, LogEvent>[] originals = await OriginalsAsync(log, "midway", 1);

        var table = new Dictionary<string, string>();
        long previous = -1;
        bool compacted = false;
        await foreach (IReadOnlyList<StoredEvent> batch in log.ReadBatchesAsync("midway", 0))
        {
            foreach (StoredEvent e in batch)
            {
                Assert.True(e.Offset > previous);
                previous = e.Offset;
                Assert.Equal(originals[0][e.Offset].Id, e.Event.Id);
                if (e.Event.Data is null)
                {
                    table.Remove(e.Event.PartitionKey!);
                }
                else
                {
                    table[e.Event.PartitionKey!] = e.Event.Data.ToString();
                }
            }

            if (!compacted)
            {
                compacted = true; // the segment being read is replaced (and deleted) under the reader
                await log.CompactAsync("midway", new CompactionOptions { DeleteRetention = TimeSpan.Zero });
            }
        }

        Assert.Equal(Model(ops), table);
    }

    [Fact]
    public async Task Any_upserts_and_tombstones_fold_to_the_model_before_and_after_compaction_and_replay()
    {
        EventLogClient log = azurite.CreateClient();
        int run = 0;
        Gen<(int Key, int? Value)> op = Gen.Choose(0, 11).SelectMany(k => Gen.Choose(-3, 20).Select(v => (k, v < 0 ? (int?)null : v)));
        Arbitrary<(int Key, int? Value)[]> arb = Gen.Choose(1, 120).SelectMany(n => Gen.ArrayOf(op, n)).ToArbitrary();
        var failures = new List<string>();
        Prop.ForAll(arb, sequence =>
        {
            string stream = $"prop-{run++}";
            List<(string Key, string? Value)> ops = sequence.Select(o => ($"key-{o.Key}", o.Value?.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
            try
            {
                CreateAsync(log, stream, partitions: 3).GetAwaiter().GetResult();
                ProduceAsync(log, stream, ops).GetAwaiter().GetResult();
                Dictionary<long, LogEvent>[] originals = OriginalsAsync(log, stream, 3).GetAwaiter().GetResult();
                Dictionary<string, string> model = Model(ops);
                Dictionary<string, string> folded = FoldAndCheckAsync(log, stream, originals).GetAwaiter().GetResult();
                // Tiny batches: compacted segments of many gapped batches that must tile the range exactly.
                log.CompactAsync(stream, new CompactionOptions { DeleteRetention = TimeSpan.Zero, TargetBatchBytes = 150 }).GetAwaiter().GetResult();
                Dictionary<string, string> replayed = FoldAndCheckAsync(log, stream, originals).GetAwaiter().GetResult();
                if (!model.OrderBy(kv => kv.Key).SequenceEqual(folded.OrderBy(kv => kv.Key)) || !model.OrderBy(kv => kv.Key).SequenceEqual(replayed.OrderBy(kv => kv.Key)))
                {
                    failures.Add($"{stream}: {string.Join(",", ops.Select(o => $"{o.Key}={o.Value ?? "null"}"))}");
                    return false;
                }

                return true;
            }
            catch (Exception ex)
            {
                failures.Add($"{stream}: {ex.Message}");
                return false;
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(20));
        Assert.Empty(failures);
    }
}
