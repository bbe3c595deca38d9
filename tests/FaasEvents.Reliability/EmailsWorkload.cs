using System.Collections.Concurrent;
using System.Text.Json;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.Samples;

namespace FaasEvents.Reliability;

/// <summary>
/// Email jobs for the sample's queue-consumed <c>email-sender</c> (emails -> emails.sent), one in 50 to a mailbox that
/// does not exist (dead-lettered after maxDeliveryCount); then the check: every acknowledged job sent or dead-lettered
/// (lost), copies beyond the first (duplicated), split by cause.
/// </summary>
public sealed class EmailsWorkload(int count)
{
    public const string Stream = "emails";
    public const string Output = "emails.sent";
    public const string Group = "email-sender";
    public const string DeadLetters = "emails.email-sender.deadletter";
    private readonly ConcurrentDictionary<string, byte> acknowledged = new(StringComparer.Ordinal);

    /// <summary>Sends that failed (maybe stored, maybe not) and were sent again.</summary>
    public int Resent { get; private set; }

    public static bool Bounces(int i) => i % 50 == 7;

    public static async Task CreateStreamsAsync(EventLogClient log, int partitions)
    {
        await log.CreateStreamAsync(new StreamDefinition { Name = Stream, Partitions = partitions });
        await log.CreateStreamAsync(new StreamDefinition { Name = Output, Partitions = partitions });
    }

    public async Task ProduceAsync(EventLogClient log, TimeSpan pause, CancellationToken cancellationToken)
    {
        await using EventProducerClient producer = log.CreateProducer(Stream);
        foreach (int[] chunk in Enumerable.Range(0, count).Chunk(250))
        {
            LogEvent[] events = chunk.Select(Job).ToArray();
            Resent += await ChunkSender.SendUntilAcknowledgedAsync(() => producer.SendBatchAsync(events, cancellationToken), cancellationToken);
            foreach (LogEvent e in events)
            {
                acknowledged[e.Id] = 0;
            }

            await Task.Delay(pause, cancellationToken);
        }
    }

    /// <summary>
    /// Lost: acknowledged jobs neither sent nor dead-lettered, and bouncing jobs sent. Duplicated: copies beyond the first,
    /// split into redeliveries (a later delivery sent it again: the lock of an earlier one ran out) and repeats of the
    /// same delivery (an output append the runtime wrote again after a storage failure).
    /// </summary>
    public async Task<(long Lost, long Redelivered, long SameDelivery, long DeadLettered, long DeadLetteredTwice, long WrongDeadLetters)> CheckAsync(EventLogClient log, CancellationToken cancellationToken)
    {
        List<EmailSent> sent = [.. (await LogAudit.ReadAllAsync(log, Output, cancellationToken)).Select(e => e.Event.Data!.ToObjectFromJson<EmailSent>(JsonSerializerOptions.Web)!)];
        List<string> dead = await log.TryGetStreamAsync(DeadLetters, cancellationToken) is null
            ? []
            : [.. (await LogAudit.ReadAllAsync(log, DeadLetters, cancellationToken)).Select(e => e.Event.Id)];
        var sentById = sent.GroupBy(s => s.JobId).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var deadIds = dead.ToHashSet(StringComparer.Ordinal);
        long lost = acknowledged.Keys.Count(id => Bounces(Index(id)) ? !deadIds.Contains(id) || sentById.ContainsKey(id) : !sentById.ContainsKey(id));
        long redelivered = sentById.Values.Sum(copies => copies.Select(c => c.Delivery).Distinct().Count() - 1L);
        long sameDelivery = sentById.Values.Sum(copies => copies.Count - (long)copies.Select(c => c.Delivery).Distinct().Count());
        long wrong = dead.Count(id => !Bounces(Index(id)));
        return (lost, redelivered, sameDelivery, deadIds.Count, dead.Count - deadIds.Count, wrong);
    }

    private static int Index(string id) => int.Parse(id[2..], System.Globalization.CultureInfo.InvariantCulture);

    private static LogEvent Job(int i)
    {
        var job = new EmailJob($"e-{i:D6}", Bounces(i) ? $"user{i}@invalid" : $"user{i}@example.com", $"Welcome #{i}");
        return new LogEvent(job.JobId, "/signup", "com.example.email.requested")
        {
            DataContentType = "application/json",
            Data = BinaryData.FromObjectAsJson(job, JsonSerializerOptions.Web),
        };
    }
}
