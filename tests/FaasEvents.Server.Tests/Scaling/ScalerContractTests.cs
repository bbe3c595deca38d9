using FaasEvents.Log;
using FaasEvents.Log.Compaction;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Queues;
using FaasEvents.Log.Streams;
using FaasEvents.Server.Scaling.Grpc;
using FaasEvents.TestSupport;
using Grpc.Core;

namespace FaasEvents.Server.Tests.Scaling;

/// <summary>KEDA's externalscaler contract, with Grpc.Net.Client against the real server.</summary>
public class ScalerContractTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static async Task Produce(EventLogClient log, string stream, params int[] perPartition)
    {
        await using EventProducerClient p = log.CreateProducer(stream);
        for (int partition = 0; partition < perPartition.Length; partition++)
        {
            if (perPartition[partition] > 0)
            {
                await p.SendBatchAsync(Enumerable.Range(0, perPartition[partition]).Select(i => TestEvents.Json($"p{partition}-{i}")), partition);
            }
        }
    }

    [Fact]
    public async Task Lag_and_activity_are_unchanged_by_compaction_gaps()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "prices", Partitions = 2, Kind = StreamKind.Entities, SegmentMaxBlocks = 2 });
        await using (EventProducerClient p = log.CreateProducer("prices"))
        {
            for (int i = 0; i < 10; i++)
            {
                await p.SendBatchAsync(Enumerable.Range(0, 6).Select(j => new LogEvent($"p{i}-{j}", "/t", "price") { PartitionKey = $"sku-{j}", Data = BinaryData.FromString($"{i}") }));
            }
        }

        await log.Checkpoints.UpdateAsync("pricing", "prices", 0, 3); // a consumer inside what compaction will remove
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, "--FAAS_LAG_CACHE_MS=0", "--FAAS_COMPACTION_INTERVAL=0");
        ScaledObjectRef r = ServerHarness.Ref(("stream", "prices"), ("consumerGroup", "pricing"), ("lagThreshold", "1000"));
        long before = (await server.Scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = r })).MetricValues[0].MetricValue_;
        IReadOnlyList<PartitionCompaction> done = await log.CompactAsync("prices", new CompactionOptions { DeleteRetention = TimeSpan.Zero });
        Assert.True(done.Sum(d => d.EventsKept) < done.Sum(d => d.EventsRead));
        long after = (await server.Scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = r })).MetricValues[0].MetricValue_;
        Assert.Equal(60 - 3, before);
        Assert.Equal(before, after); // lag counts offsets; compaction changes no offset
        Assert.True((await server.Scaler.IsActiveAsync(r)).Result);
    }

    [Fact]
    public async Task Metric_spec_and_metrics_fill_int_and_float_fields_with_a_unique_name()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "orders", Partitions = 4 });
        await Produce(log, "orders", 30, 0, 12, 5);
        await log.Checkpoints.UpdateAsync("billing", "orders", 0, 10);
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        ScaledObjectRef r = ServerHarness.Ref(("stream", "orders"), ("consumerGroup", "billing"), ("lagThreshold", "100"));

        GetMetricSpecResponse spec = await server.Scaler.GetMetricSpecAsync(r);
        MetricSpec s = Assert.Single(spec.MetricSpecs);
        Assert.Equal((100L, 100.0), (s.TargetSize, s.TargetSizeFloat));
        Assert.StartsWith("faas-lag-orders-billing-", s.MetricName, StringComparison.Ordinal);
        string other = (await server.Scaler.GetMetricSpecAsync(ServerHarness.Ref(("stream", "orders"), ("consumerGroup", "audit")))).MetricSpecs[0].MetricName;
        Assert.NotEqual(s.MetricName, other);

        GetMetricsResponse metrics = await server.Scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = r, MetricName = s.MetricName });
        MetricValue v = Assert.Single(metrics.MetricValues);
        Assert.Equal((s.MetricName, 20 + 0 + 12 + 5L, 37.0), (v.MetricName, v.MetricValue_, v.MetricValueFloat)); // 30-10 + 12 + 5
        Assert.True((await server.Scaler.IsActiveAsync(r)).Result);
    }

    [Fact]
    public async Task Metric_is_capped_so_replicas_never_exceed_partitions_unless_idle_consumers_are_allowed()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "big", Partitions = 3 });
        await Produce(log, "big", 100, 50, 0);
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        async Task<long> Metric(params (string, string)[] extra)
        {
            ScaledObjectRef r = ServerHarness.Ref([("stream", "big"), ("consumerGroup", "g"), ("lagThreshold", "10"), .. extra]);
            return (await server.Scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = r })).MetricValues[0].MetricValue_;
        }

        Assert.Equal(30, await Metric()); // 150 lag, capped at 3 partitions x 10: HPA gets ceil(30/10) = 3 replicas
        Assert.Equal(150, await Metric(("allowIdleConsumers", "true")));
        Assert.Equal(20, await Metric(("limitToPartitionsWithLag", "true"))); // only 2 partitions have lag
    }

    [Fact]
    public async Task A_queue_group_s_lag_is_its_unsettled_events_and_its_replicas_are_not_capped_by_the_partition_count()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "jobs-q", Partitions = 2 });
        await Produce(log, "jobs-q", 60, 40);
        PartitionQueue q0 = await log.OpenQueueAsync("workers", "jobs-q", 0);
        IReadOnlyList<QueueDelivery> taken = await q0.AcquireAsync("i1", 10, TimeSpan.FromMinutes(1), endOffset: 60);
        await q0.SettleAsync("i1", [.. taken.Take(4).Select(d => new QueueSettlement(d.Offset, QueueOutcome.Accepted)), new QueueSettlement(taken[6].Offset, QueueOutcome.Accepted)]); // 0-3 and 6 settled, 4, 5, 7-9 in flight
        // No idle back-off: a reading is reused for the 500 ms cache only, however slow the machine is between reads
        // (with it, two unchanged reads on a loaded machine stretch the reuse past the wait below; ScalerIdleCostTests tests it).
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, "--FAAS_LAG_IDLE_MAX=00:00:00");

        async Task<long> Metric(params (string, string)[] extra) => (await server.Scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = ServerHarness.Ref([("stream", "jobs-q"), ("consumerGroup", "workers"), ("lagThreshold", "10"), .. extra]) })).MetricValues[0].MetricValue_;

        Assert.Equal(95, await Metric(("consumption", "queue"))); // 55 + 40 unsettled (in flight counts): HPA gets 10 replicas on 2 partitions
        Assert.Equal(20, await Metric()); // the same group read as a stream group is capped at 2 partitions x 10
        Assert.True((await server.Scaler.IsActiveAsync(ServerHarness.Ref(("stream", "jobs-q"), ("consumerGroup", "workers"), ("consumption", "queue")))).Result);

        // A new queue group at "latest" is pinned by the scaler: only what arrives later is lag.
        Assert.Equal(0, await Metric(("consumption", "queue"), ("consumerGroup", "late"), ("initialOffset", "latest")));
        await Produce(log, "jobs-q", 3, 0);
        await Task.Delay(600); // past the lag cache
        Assert.Equal(3, await Metric(("consumption", "queue"), ("consumerGroup", "late"), ("initialOffset", "latest")));
        Assert.Equal(3, (await log.GetQueueLagAsync("jobs-q", "late")).TotalLag);

        // The scaler's view of what it scales (the console's functions page): each ScaledObject with its last answer.
        System.Text.Json.JsonElement seen = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<System.Text.Json.JsonElement>(server.Http, "/scaledobjects");
        System.Text.Json.JsonElement workers = seen.EnumerateArray().Single(v => v.GetProperty("consumerGroup").GetString() == "workers" && v.GetProperty("consumption").GetString() == "queue");
        Assert.Equal(95, workers.GetProperty("lag").GetInt64());
        Assert.Equal(10, workers.GetProperty("desiredReplicas").GetInt64()); // ceil(95 / 10): past the 2 partitions
        Assert.True(workers.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task Empty_partitions_and_missing_checkpoints_never_give_negative_or_garbage_lag()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "empty", Partitions = 8 });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log, "--FAAS_LAG_IDLE_MAX=00:00:00"); // reuse = the 500 ms cache, however slow the machine (as above)
        ScaledObjectRef r = ServerHarness.Ref(("stream", "empty"), ("consumerGroup", "new-group"));
        Assert.Equal(0, (await server.Scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = r })).MetricValues[0].MetricValue_);
        Assert.False((await server.Scaler.IsActiveAsync(r)).Result);

        await Produce(log, "empty", 0, 4);
        await log.Checkpoints.UpdateAsync("ahead", "empty", 0, 99); // a checkpoint past the end counts as no lag
        await Task.Delay(600); // past the lag cache
        Assert.Equal(4, (await server.Scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = r })).MetricValues[0].MetricValue_);
        Assert.Equal(0, (await server.Scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = ServerHarness.Ref(("stream", "empty"), ("consumerGroup", "new-group"), ("initialOffset", "latest")) })).MetricValues[0].MetricValue_);
        Assert.Equal(4, (await server.Scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = ServerHarness.Ref(("stream", "empty"), ("consumerGroup", "ahead")) })).MetricValues[0].MetricValue_);
    }

    [Fact]
    public async Task Keda_connection_keys_in_the_metadata_are_accepted()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "keys" });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        ScaledObjectRef r = ServerHarness.Ref(("stream", "keys"), ("consumerGroup", "g"), ("scalerAddress", "faas-server.faas.svc:6000"), ("caCert", "/certs/ca.pem"), ("tlsClientCert", "/certs/c.pem"), ("tlsClientKey", "/certs/k.pem"), ("unsafeSsl", "false"));
        Assert.False((await server.Scaler.IsActiveAsync(r)).Result); // KEDA sends the whole trigger metadata
    }

    [Fact]
    public async Task Activation_threshold_gates_is_active()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "act" });
        await Produce(log, "act", 5);
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        Assert.False((await server.Scaler.IsActiveAsync(ServerHarness.Ref(("stream", "act"), ("consumerGroup", "g"), ("activationLagThreshold", "5")))).Result);
        Assert.True((await server.Scaler.IsActiveAsync(ServerHarness.Ref(("stream", "act"), ("consumerGroup", "g"), ("activationLagThreshold", "4")))).Result);
    }

    [Theory]
    [InlineData(new[] { "consumerGroup", "g" }, "metadata 'stream' is required")]
    [InlineData(new[] { "stream", "s" }, "metadata 'consumerGroup' is required")]
    [InlineData(new[] { "stream", "s", "consumerGroup", "g", "lagThreshold", "0" }, "metadata 'lagThreshold': '0' must be an integer >= 1")]
    [InlineData(new[] { "stream", "s", "consumerGroup", "g", "lagThreshold", "ten" }, "metadata 'lagThreshold': 'ten'")]
    [InlineData(new[] { "stream", "s", "consumerGroup", "g", "allowIdleConsumers", "yes" }, "metadata 'allowIdleConsumers': 'yes' must be 'true' or 'false'")]
    [InlineData(new[] { "stream", "s", "consumerGroup", "g", "initialOffset", "middle" }, "metadata 'initialOffset'")]
    [InlineData(new[] { "stream", "s", "consumerGroup", "g", "lagTreshold", "5" }, "metadata key 'lagTreshold' is not known")]
    [InlineData(new[] { "stream", "s", "consumerGroup", "g", "consumption", "shared" }, "metadata 'consumption': 'shared' must be 'stream' or 'queue'")]
    [InlineData(new[] { "stream", "bad/name", "consumerGroup", "g" }, "metadata 'stream'")]
    public async Task Bad_metadata_is_invalid_argument_naming_the_key(string[] pairs, string expected)
    {
        EventLogClient log = azurite.CreateClient();
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        ScaledObjectRef r = ServerHarness.Ref(pairs.Chunk(2).Select(p => (p[0], p[1])).ToArray());
        foreach (Func<Task> call in new Func<Task>[] { () => server.Scaler.IsActiveAsync(r).ResponseAsync, () => server.Scaler.GetMetricSpecAsync(r).ResponseAsync, () => server.Scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = r }).ResponseAsync })
        {
            RpcException ex = await Assert.ThrowsAsync<RpcException>(call);
            Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
            Assert.Contains(expected, ex.Status.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_stream_deleted_after_the_first_refresh_is_not_found_and_its_re_creation_is_seen()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "gone", Partitions = 2 });
        await Produce(log, "gone", 3, 4);
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        GetMetricsRequest request = new() { ScaledObjectRef = ServerHarness.Ref(("stream", "gone"), ("consumerGroup", "g")), MetricName = "lag" };
        Assert.Equal(7, (await server.Scaler.GetMetricsAsync(request)).MetricValues.Single().MetricValue_);

        await log.DeleteStreamAsync("gone");
        await Task.Delay(TimeSpan.FromSeconds(1)); // past the lag cache
        RpcException ex = await Assert.ThrowsAsync<RpcException>(() => server.Scaler.GetMetricsAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, ex.StatusCode); // not "lag 0", which would scale the function to zero silently

        await log.CreateStreamAsync(new StreamDefinition { Name = "gone", Partitions = 3 });
        await Produce(log, "gone", 1, 1, 5);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(7, (await server.Scaler.GetMetricsAsync(request)).MetricValues.Single().MetricValue_); // all 3 partitions counted
    }

    [Fact]
    public async Task A_new_group_starting_at_latest_counts_what_arrives_after_the_scaler_first_saw_it_so_it_wakes_from_zero()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "fresh", Partitions = 2 });
        await Produce(log, "fresh", 4, 6); // history the new group skips
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        GetMetricsRequest request = new() { ScaledObjectRef = ServerHarness.Ref(("stream", "fresh"), ("consumerGroup", "newcomer"), ("initialOffset", "latest")), MetricName = "lag" };
        Assert.Equal(0, (await server.Scaler.GetMetricsAsync(request)).MetricValues.Single().MetricValue_); // nothing new yet: stays at zero

        await Produce(log, "fresh", 2, 3); // no instance runs: only the scaler has seen the group
        await Task.Delay(TimeSpan.FromSeconds(1)); // past the lag cache
        Assert.Equal(5, (await server.Scaler.GetMetricsAsync(request)).MetricValues.Single().MetricValue_);
        Assert.True((await server.Scaler.IsActiveAsync(request.ScaledObjectRef)).Result); // KEDA wakes the function
        Assert.Equal([4L, 6L], (await log.Checkpoints.ListAsync("newcomer", "fresh")).OrderBy(c => c.Partition).Select(c => c.NextOffset)); // where the group starts
    }

    [Fact]
    public async Task Unknown_stream_is_not_found()
    {
        EventLogClient log = azurite.CreateClient();
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        RpcException ex = await Assert.ThrowsAsync<RpcException>(() => server.Scaler.GetMetricsAsync(new GetMetricsRequest { ScaledObjectRef = ServerHarness.Ref(("stream", "ghost"), ("consumerGroup", "g")) }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Contains("'ghost'", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_is_active_pushes_true_within_a_second_of_lag_appearing()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "push", Partitions = 2 });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using AsyncServerStreamingCall<IsActiveResponse> call = server.Scaler.StreamIsActive(ServerHarness.Ref(("stream", "push"), ("consumerGroup", "g")), cancellationToken: cts.Token);
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        Assert.False(call.ResponseStream.Current.Result); // current state at once: idle

        // Through the ingress: pushed at once.
        var ingress = System.Diagnostics.Stopwatch.StartNew();
        using var content = new StringContent("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/t\",\"type\":\"t\"}", System.Text.Encoding.UTF8, "application/cloudevents+json");
        (await server.Http.PostAsync(new Uri("/streams/push/events", UriKind.Relative), content)).EnsureSuccessStatusCode();
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        Assert.True(call.ResponseStream.Current.Result);
        TimeSpan viaIngress = ingress.Elapsed;

        // Drain, see it go idle, then append directly (no ingress): noticed by the cheap poll.
        foreach (PartitionInfo part in await log.GetPartitionsAsync("push"))
        {
            await log.Checkpoints.UpdateAsync("g", "push", part.Partition, part.EndOffset); // consumed up to the end, no further
        }

        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        Assert.False(call.ResponseStream.Current.Result);
        await using (EventProducerClient p = log.CreateProducer("push"))
        {
            await p.SendAsync(TestEvents.Json("direct"));
        }

        var direct = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        Assert.True(call.ResponseStream.Current.Result);
        TimeSpan viaPoll = direct.Elapsed;
        Assert.True(viaIngress < TimeSpan.FromSeconds(1), $"ingress push took {viaIngress}");
        Assert.True(viaPoll < TimeSpan.FromSeconds(1.5), $"poll push took {viaPoll}"); // generous: a correctness bound, not a benchmark
        await cts.CancelAsync();
    }

    [Fact]
    public async Task Stream_metric_spec_sends_the_current_spec_at_once_matching_get_metric_spec()
    {
        EventLogClient log = azurite.CreateClient();
        await log.CreateStreamAsync(new StreamDefinition { Name = "spec" });
        await using ServerHarness server = await ServerHarness.StartAsync(azurite, log);
        ScaledObjectRef r = ServerHarness.Ref(("stream", "spec"), ("consumerGroup", "g"), ("lagThreshold", "250"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using AsyncServerStreamingCall<GetMetricSpecResponse> call = server.Scaler.StreamMetricSpec(r, cancellationToken: cts.Token);
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        Assert.Equal(await server.Scaler.GetMetricSpecAsync(r), call.ResponseStream.Current);
        await cts.CancelAsync();
        RpcException ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode); // the call honours cancellation
    }
}
