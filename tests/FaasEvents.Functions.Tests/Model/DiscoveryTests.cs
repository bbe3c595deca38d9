using CloudNative.CloudEvents;
using FaasEvents.Log.Events;

namespace FaasEvents.Functions.Tests.Model;

public class DiscoveryTests
{
    private sealed record Order(string Id);

    private static class Good
    {
        [Function("single")]
        public static void Single([EventTrigger("orders", ConsumerGroup = "billing")] Order order, FunctionContext context, CancellationToken token) { }

        [Function("batch")]
        [EventOutput("out")]
        public static Task<IEnumerable<LogEvent>> Batch([EventTrigger("orders")] IReadOnlyList<CloudEvent> events) => Task.FromResult(Enumerable.Empty<LogEvent>());

        [Function("raw")]
        [FixedDelayRetry(2, "00:00:05")]
        public static void Raw([EventTrigger("orders")] StoredEvent[] events) { }
    }

    [Fact]
    public void Good_signatures_are_discovered_with_defaults()
    {
        IReadOnlyList<FunctionDefinition> fns = FunctionDiscovery.Discover([typeof(Good)]);
        FunctionDefinition single = fns.Single(f => f.Name == "single");
        Assert.Equal(("orders", "billing", "event", (string?)null), (single.Stream, single.ConsumerGroup, single.Kind, single.OutputStream));
        FunctionDefinition batch = fns.Single(f => f.Name == "batch");
        Assert.Equal(("batch", "batch", "out", "FAAS_STORAGE"), (batch.ConsumerGroup, batch.Kind, batch.OutputStream, batch.Connection)); // group defaults to the name
        Assert.Equal(RetrySettings.Fixed(2, TimeSpan.FromSeconds(5)), fns.Single(f => f.Name == "raw").Retry);
    }

    private static class NoTrigger
    {
        [Function("no-trigger")]
        public static void Run(string s) { }
    }

    private static class TwoTriggers
    {
        [Function("two")]
        public static void Run([EventTrigger("a")] string a, [EventTrigger("b")] string b) { }
    }

    private static class ReturnsWithoutOutput
    {
        [Function("ret")]
        public static int Run([EventTrigger("a")] string a) => 1;
    }

    private static class OutputWithoutReturn
    {
        [Function("out")]
        [EventOutput("x")]
        public static void Run([EventTrigger("a")] string a) { }
    }

    private static class ObjectTrigger
    {
        [Function("obj")]
        public static void Run([EventTrigger("a")] object a) { }
    }

    private static class BadStream
    {
        [Function("bad-stream")]
        public static void Run([EventTrigger("no/slashes")] string a) { }
    }

    private static class BothRetries
    {
        [Function("both")]
        [FixedDelayRetry(1, "00:00:01")]
        [ExponentialBackoffRetry(1, "00:00:01", "00:00:02")]
        public static void Run([EventTrigger("a")] string a) { }
    }

    private static class BadInterval
    {
        [Function("interval")]
        [FixedDelayRetry(1, "soon")]
        public static void Run([EventTrigger("a")] string a) { }
    }

    private static class Duplicate1
    {
        [Function("same")]
        public static void Run([EventTrigger("a")] string a) { }
    }

    private static class Duplicate2
    {
        [Function("same")]
        public static void Run([EventTrigger("a")] string a) { }
    }

    private static class SharedGroup
    {
        [Function("first")]
        public static void First([EventTrigger("orders", ConsumerGroup = "shared")] string a) { }

        [Function("second")]
        public static void Second([EventTrigger("orders", ConsumerGroup = "shared")] string a) { }

        [Function("elsewhere")]
        public static void Elsewhere([EventTrigger("payments", ConsumerGroup = "shared")] string a) { } // another stream: fine
    }

    public sealed record Book(string Title);

    private static class MaterializerWithoutState
    {
        [Function("m1")]
        public static void Run([MaterializerTrigger("books")] Book b) { }
    }

    private static class StateWithoutMaterializer
    {
        [Function("m2")]
        public static void Run([EventTrigger("books")] Book b, [CurrentState] Book? current) { }
    }

    private static class BatchMaterializer
    {
        [Function("m3")]
        public static Book? Run([MaterializerTrigger("books")] Book[] b) => null;
    }

    private static class MismatchedState
    {
        [Function("m4")]
        public static Book? Run([MaterializerTrigger("books")] Book b, [CurrentState] string? current) => b;
    }

    private static class NumericKey
    {
        [Function("m5")]
        public static Book? Run([MaterializerTrigger("books")] Book b, [EntityKey] int key) => b;
    }

    private static class ListState
    {
        [Function("m6")]
        public static List<Book>? Run([MaterializerTrigger("books")] Book b) => null;
    }

    private static class Materializers
    {
        [Function("catalog")]
        public static Book? Latest([MaterializerTrigger("books", Changelog = true)] Book? b) => b;

        [Function("counts")]
        public static async Task<int?> Count([MaterializerTrigger("books", ConsumerGroup = "counting")] Book b, [CurrentState] int? current, [EntityKey] string key, FunctionContext context)
        {
            await Task.Yield();
            return (current ?? 0) + 1;
        }
    }

    [Fact]
    public void Materializers_are_discovered_with_their_state_type_changelog_and_kind()
    {
        IReadOnlyList<FunctionDefinition> fns = FunctionDiscovery.Discover([typeof(Materializers)]);
        FunctionDefinition catalog = fns.Single(f => f.Name == "catalog");
        Assert.Equal(("materializer", typeof(Book), "catalog.changelog", "catalog", "books"), (catalog.Kind, catalog.StateType, catalog.ChangelogStream, catalog.ConsumerGroup, catalog.Stream));
        FunctionDefinition counts = fns.Single(f => f.Name == "counts");
        Assert.Equal((typeof(int?), (string?)null, "counting"), (counts.StateType, counts.ChangelogStream, counts.ConsumerGroup));
        Assert.Equal((false, true), (catalog.FoldsHistory, counts.FoldsHistory)); // latest-wins can read a compacted stream; a fold over history cannot
    }

    [Theory]
    [InlineData(typeof(MaterializerWithoutState), "a materializer returns the key's new state")]
    [InlineData(typeof(StateWithoutMaterializer), "has [CurrentState], which only a materializer")]
    [InlineData(typeof(BatchMaterializer), "folds one event at a time")]
    [InlineData(typeof(MismatchedState), "has type String but the materializer returns Book")]
    [InlineData(typeof(NumericKey), "[EntityKey] parameter 'key' must be a string")]
    [InlineData(typeof(ListState), "must be a concrete type")]
    [InlineData(typeof(NoTrigger), "NoTrigger.Run: no parameter has [EventTrigger")]
    [InlineData(typeof(TwoTriggers), "has a second trigger")]
    [InlineData(typeof(ReturnsWithoutOutput), "returns Int32 but has no [EventOutput")]
    [InlineData(typeof(OutputWithoutReturn), "has [EventOutput] but returns nothing")]
    [InlineData(typeof(ObjectTrigger), "has type Object, which cannot be bound")]
    [InlineData(typeof(BadStream), "Invalid stream name 'no/slashes'")]
    [InlineData(typeof(BothRetries), "has both [FixedDelayRetry] and [ExponentialBackoffRetry]")]
    [InlineData(typeof(BadInterval), "'soon' is not a time span")]
    public void Bad_signatures_fail_naming_the_method_and_the_problem(Type type, string expected)
    {
        FunctionIndexingException ex = Assert.Throws<FunctionIndexingException>(() => FunctionDiscovery.Discover([type]));
        string problem = Assert.Single(ex.Problems);
        Assert.Contains(type.Name, problem, StringComparison.Ordinal);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_functions_sharing_a_consumer_group_on_one_stream_are_rejected_instead_of_splitting_its_events()
    {
        string message = Assert.Throws<FunctionIndexingException>(() => FunctionDiscovery.Discover([typeof(SharedGroup)])).Message;
        Assert.Contains("consumer group 'shared' on stream 'orders' is used by", message, StringComparison.Ordinal);
        Assert.Contains("first", message, StringComparison.Ordinal);
        Assert.Contains("second", message, StringComparison.Ordinal);
        Assert.DoesNotContain("payments", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_names_are_rejected() =>
        Assert.Contains("function name 'same' is used by", Assert.Throws<FunctionIndexingException>(() => FunctionDiscovery.Discover([typeof(Duplicate1), typeof(Duplicate2)])).Message, StringComparison.Ordinal);

    [Fact]
    public void Sample_app_functions_are_all_valid()
    {
        IReadOnlyList<FunctionDefinition> fns = FunctionDiscovery.Discover(typeof(Samples.OrderFunctions).Assembly);
        Assert.Equal(["book-catalog", "customer-totals", "email-sender", "event-display", "inventory", "order-audit", "order-billing", "order-enrich", "order-split", "shipping"], fns.Select(f => f.Name).Order());
    }
}
