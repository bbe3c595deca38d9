using FaasEvents.Samples;
using FaasEvents.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace FaasEvents.Functions.Tests.Testing;

/// <summary>The test kit (FaasEvents.Testing) on the sample app: the real runtime, in memory, on fake time.</summary>
public sealed class FunctionTestHostTests
{
    [Fact]
    public async Task Orders_go_through_audit_enrich_and_shipping_as_the_runtime_runs_them()
    {
        await using FunctionTestHost host = await FunctionTestHost.StartAsync(typeof(OrderFunctions), b => b.Services.AddSingleton<TaxRates>());

        host.Send("orders", new Order("o-1", "eu-bob", 100m), key: "eu-bob");
        host.Send("orders", new Order("o-2", "alice", 50m), key: "alice");
        await host.WaitForIdleAsync();

        Assert.Equal([("o-1", 120.00m), ("o-2", 54.00m)], host.Events<EnrichedOrder>("orders.enriched").Select(e => (e!.OrderId, e.Total)).Order());
        AuditRecord[] audits = [.. host.Events<AuditRecord>("orders.audit").Select(a => a!)];
        Assert.Equal(["o-1", "o-2"], audits.Select(a => a.OrderId).Order());
        Assert.All(audits, a => Assert.Equal(host.Time.GetUtcNow().Year, a.AuditedAt.Year)); // the handler's TimeProvider is the fake clock
        Assert.Contains(host.Invocations, i => i.Function == "shipping" && i.Succeeded); // the pipeline's second stage ran on the first one's outputs
        Assert.Empty(host.DeadLetters("order-billing"));
    }

    [Fact]
    public async Task A_poison_order_is_retried_then_dead_lettered_with_its_attempts()
    {
        await using FunctionTestHost host = await FunctionTestHost.StartAsync(typeof(OrderFunctions), b => b.Services.AddSingleton<TaxRates>());

        host.Send("orders", new Order("bad", "bob", -5m), key: "bob", id: "order-bad");
        await host.WaitForIdleAsync();

        var dead = Assert.Single(host.DeadLetters("order-billing"));
        Assert.Equal("order-bad", dead.Event.Id);
        Assert.Equal(4, Convert.ToInt32(dead.Event.Extensions["dlqattempts"], System.Globalization.CultureInfo.InvariantCulture)); // [ExponentialBackoffRetry(3, ...)]: 1 + 3 retries
        Invocation[] attempts = [.. host.Invocations.Where(i => i.Function == "order-billing")];
        Assert.Equal([0, 1, 2, 3], attempts.Select(a => a.RetryAttempt));
        Assert.All(attempts, a => Assert.IsType<InvalidOperationException>(a.Error));
    }

    [Fact]
    public async Task A_materializer_folds_per_key_and_a_tombstone_deletes()
    {
        await using FunctionTestHost host = await FunctionTestHost.StartAsync(typeof(MaterializerFunctions));

        host.Send("orders", new Order("o-1", "bob", 10m), key: "bob");
        host.Send("orders", new Order("o-2", "bob", 5m), key: "bob");
        host.Send("books", new Book("isbn-1", "Dune", "Herbert", 1965), key: "isbn-1");
        await host.WaitForIdleAsync();
        Assert.Equal(new CustomerTotal(2, 15m, "o-2"), host.State<CustomerTotal>("customer-totals", "bob"));
        Assert.Equal("Dune", host.State<Book>("book-catalog", "isbn-1")?.Title);

        host.Send("books", null, key: "isbn-1"); // a tombstone
        await host.WaitForIdleAsync();
        Assert.Null(host.State<Book>("book-catalog", "isbn-1"));
        Assert.Null(host.State<CustomerTotal>("customer-totals", "nobody"));
    }

    [Fact]
    public async Task A_queue_function_sends_every_job_and_dead_letters_a_bouncing_one_with_its_delivery_history()
    {
        await using FunctionTestHost host = await FunctionTestHost.StartAsync(typeof(EmailFunctions));

        host.Send("emails", new EmailJob("j-1", "ann@example.com", "Hi"), id: "j-1");
        host.Send("emails", new EmailJob("j-2", "nobody@invalid", "Hi"), id: "j-2");
        host.Send("emails", new EmailJob("j-3", "bob@example.com", "Hi"), id: "j-3");
        await host.WaitForIdleAsync();

        Assert.Equal(["j-1", "j-3"], host.Events<EmailSent>("emails.sent").Select(e => e!.JobId).Order());
        var dead = Assert.Single(host.DeadLetters("email-sender"));
        Assert.Equal("j-2", dead.Event.Id);
        Assert.Equal(5, Convert.ToInt32(dead.Event.Extensions["dlqattempts"], System.Globalization.CultureInfo.InvariantCulture)); // queue.maxDeliveryCount
        using var history = System.Text.Json.JsonDocument.Parse((string)dead.Event.Extensions["dlqhistory"]);
        Assert.Equal(5, history.RootElement.GetArrayLength());
        Assert.Equal([0, 1, 2, 3, 4], host.Invocations.Where(i => i.Function == "email-sender" && i.Error is not null).Select(i => i.RetryAttempt)); // each delivery counted
    }

    [Fact]
    public async Task Back_offs_of_minutes_pass_on_the_fake_clock()
    {
        await using FunctionTestHost host = await FunctionTestHost.StartAsync(typeof(SlowRetryFunctions));
        DateTimeOffset start = host.Time.GetUtcNow();

        host.Send("jobs", new { n = 1 });
        await host.WaitForIdleAsync();

        Assert.Single(host.DeadLetters("always-fails"));
        Assert.True(host.Time.GetUtcNow() - start >= TimeSpan.FromMinutes(7), $"retries waited 1 + 2 + 4 minutes of fake time (moved {host.Time.GetUtcNow() - start})");
    }

    [Fact]
    public async Task A_wait_that_cannot_end_names_what_is_still_pending()
    {
        await using FunctionTestHost host = await FunctionTestHost.StartAsync(typeof(StuckFunctions));

        host.Send("stuck", new { n = 1 });
        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => host.WaitForIdleAsync(TimeSpan.FromMilliseconds(500)));

        Assert.Contains("never-returns", timeout.Message, StringComparison.Ordinal);
        Assert.Contains("handled up to offset 0 of 1", timeout.Message, StringComparison.Ordinal);
    }

    public static class SlowRetryFunctions
    {
        [Function("always-fails")]
        [ExponentialBackoffRetry(3, "00:01:00", "00:10:00")]
        public static void Run([EventTrigger("jobs")] FaasEvents.Log.Events.LogEvent e) => throw new InvalidOperationException($"job {e.Id} fails");
    }

    public static class StuckFunctions
    {
        [Function("never-returns")]
        public static Task Run([EventTrigger("stuck")] FaasEvents.Log.Events.LogEvent e, FunctionContext context) => Task.Delay(Timeout.Infinite, context.CancellationToken);
    }
}
