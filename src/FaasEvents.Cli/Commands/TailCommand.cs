using System.CommandLine;
using System.Threading.Channels;
using FaasEvents.Log.Events;
using FaasEvents.Log.Reader;
using FaasEvents.Log.Streams;

namespace FaasEvents.Cli.Commands;

internal static class TailCommand
{
    public static Command Build()
    {
        var stream = new Argument<string>("stream") { Description = "Stream to read." };
        var partition = new Option<int?>("--partition", "-p") { Description = "Only this partition (default: all)." };
        var from = new Option<string>("--from") { Description = "earliest, latest, an offset, or an ISO 8601 time.", DefaultValueFactory = _ => "earliest" };
        var follow = new Option<bool>("--follow", "-F") { Description = "Keep waiting for new events (Ctrl+C stops)." };
        var output = new Option<string>("--output", "-o") { Description = "text (readable) or json (one structured CloudEvent per line, with partition and offset).", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");
        var max = new Option<long?>("--max-events", "-n") { Description = "Stop after this many events." };
        var command = new Command("tail", "Print the events of a stream.") { stream, partition, from, follow, output, max };
        command.SetAction((parse, ct) => FaasCli.GuardAsync(parse, ct, async (log, token) =>
        {
            string name = parse.GetRequiredValue(stream);
            StreamDefinition def = await log.GetStreamAsync(name, token);
            int[] partitions = parse.GetValue(partition) is { } p ? [p] : Enumerable.Range(0, def.Partitions).ToArray();
            var options = new ReadOptions { From = StartPosition.Parse(parse.GetRequiredValue(from)), Follow = parse.GetValue(follow) };
            bool json = parse.GetValue(output) == "json";
            long limit = parse.GetValue(max) ?? long.MaxValue;
            long printed = 0;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);

            bool Print(StoredEvent e)
            {
                Console.Out.Write(json ? CloudEventConverter.ToStructuredJson(e).ToJsonString() + "\n" : EventDisplay.Format(e) + "\n");
                return ++printed < limit;
            }

            if (!options.Follow || partitions.Length == 1)
            {
                foreach (int part in partitions)
                {
                    await foreach (StoredEvent e in log.ReadPartitionAsync(name, part, options, stop.Token))
                    {
                        if (!Print(e))
                        {
                            return 0;
                        }
                    }
                }

                return 0;
            }

            // Following several partitions: merge them as events arrive (order is per partition).
            var merged = Channel.CreateBounded<StoredEvent>(1000);
            Task readers = Task.WhenAll(partitions.Select(part => Task.Run(async () =>
            {
                await foreach (StoredEvent e in log.ReadPartitionAsync(name, part, options, stop.Token))
                {
                    await merged.Writer.WriteAsync(e, stop.Token);
                }
            }, stop.Token))).ContinueWith(t => merged.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);
            try
            {
                await foreach (StoredEvent e in merged.Reader.ReadAllAsync(token))
                {
                    if (!Print(e))
                    {
                        break;
                    }
                }
            }
            finally
            {
                await stop.CancelAsync();
            }

            return 0;
        }));
        return command;
    }
}
