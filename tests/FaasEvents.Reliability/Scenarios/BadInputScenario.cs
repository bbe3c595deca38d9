using System.Diagnostics;
using System.Text;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Streams;
using FaasEvents.TestSupport;

namespace FaasEvents.Reliability.Scenarios;

/// <summary>
/// Scenario 6: malformed input through both doors a user has — the server's CloudEvents HTTP ingress (a real server
/// process) and <c>faas produce --file</c> (the real CLI). Every bad input must be refused with a 4xx / non-zero exit
/// and leave nothing in the stream; a good event sent after each bad one must be stored once, in order.
/// </summary>
public static class BadInputScenario
{
    private const string Stream = "intake";
    private const string Good = """{"specversion":"1.0","id":"ID","source":"/reliability","type":"t","partitionkey":"k","datacontenttype":"application/json","data":{"ok":true}}""";

    public static async Task<ScenarioReport> RunAsync(AzuriteProcess azurite, CancellationToken cancellationToken)
    {
        string container = "rel-" + Guid.NewGuid().ToString("N")[..12];
        var log = new EventLogClient(azurite.ConnectionString, new EventLogClientOptions { ContainerName = container });
        await log.CreateStreamAsync(new StreamDefinition { Name = Stream, Partitions = 2 }, cancellationToken);
        var clock = Stopwatch.StartNew();
        var accepted = new List<string>();
        var unclear = new List<string>();
        var goodIds = new List<string>();
        int sent = 0, goodRefused = 0;

        await using (ServerProcess server = await ServerProcess.StartAsync(azurite.ConnectionString, container, cancellationToken))
        {
            foreach (BadRequest bad in HttpInputs())
            {
                sent++;
                using HttpRequestMessage request = bad.ToRequest();
                using HttpResponseMessage response = await server.Http.SendAsync(request, cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    accepted.Add($"HTTP '{bad}' -> {(int)response.StatusCode}");
                }
                else if ((int)response.StatusCode >= 500 || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                {
                    unclear.Add($"HTTP '{bad}' -> {(int)response.StatusCode} {response.Content.Headers.ContentType?.MediaType}");
                }

                string id = $"good-{goodIds.Count:D3}";
                using var good = new StringContent(GoodLine(id), Encoding.UTF8, "application/cloudevents+json");
                using HttpResponseMessage ok = await server.Http.PostAsync(new Uri($"/streams/{Stream}/events", UriKind.Relative), good, cancellationToken);
                goodRefused += ok.IsSuccessStatusCode ? 0 : 1;
                goodIds.Add(id);
            }
        }

        string folder = Directory.CreateTempSubdirectory("faas-bad-input-").FullName;
        try
        {
            foreach ((string name, string line) in FileLines())
            {
                sent++;
                string file = Path.Combine(folder, $"bad-{sent}.jsonl");
                string first = GoodLine($"file-{sent}"); // a good line before the bad one: must not be written either
                await File.WriteAllLinesAsync(file, [first, line], cancellationToken);
                DotnetRun.Result r = await Cli(azurite.ConnectionString, container, "produce", Stream, "--file", file);
                if (r.ExitCode == 0)
                {
                    accepted.Add($"CLI '{name}' -> exit 0");
                }
                else if (!r.Stderr.StartsWith("error: ", StringComparison.Ordinal) || r.Stderr.Trim().Contains('\n', StringComparison.Ordinal))
                {
                    unclear.Add($"CLI '{name}' -> exit {r.ExitCode}: {r.Stderr.Trim().Split('\n')[0]}");
                }
            }

            string goodFile = Path.Combine(folder, "good.jsonl");
            string[] lastIds = [.. Enumerable.Range(goodIds.Count, 5).Select(n => $"good-{n:D3}")];
            await File.WriteAllLinesAsync(goodFile, lastIds.Select(id => GoodLine(id)), cancellationToken);
            DotnetRun.Result written = await Cli(azurite.ConnectionString, container, "produce", Stream, "--file", goodFile);
            goodRefused += written.ExitCode == 0 ? 0 : lastIds.Length;
            goodIds.AddRange(lastIds);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        List<StoredEvent> stored = await LogAudit.ReadAllAsync(log, Stream, cancellationToken);
        var storedIds = stored.Select(e => e.Event.Id).ToList();
        int badStored = storedIds.Count(id => !id.StartsWith("good-", StringComparison.Ordinal));
        long lost = goodIds.Count(id => !storedIds.Contains(id)) - goodRefused;
        long duplicated = storedIds.Count - storedIds.Distinct(StringComparer.Ordinal).Count();
        long outOfOrder = storedIds.Where(id => id.StartsWith("good-", StringComparison.Ordinal)).Zip(goodIds).Count(p => p.First != p.Second);
        return new ScenarioReport(
            "6. Bad input",
            $"{sent} malformed inputs ({HttpInputs().Count()} HTTP requests to a server, {FileLines().Count()} files to faas produce --file), each followed by a good event",
            "malformed CloudEvents: missing or empty attributes, non-string partitionkey, bad JSON, bad time or base64, unknown specversion, wrong media type, oversize event and body, bad stream names",
            Math.Max(0, lost),
            duplicated,
            outOfOrder,
            LogAudit.ReusedOrMissingOffsets(stored),
            clock.Elapsed,
            $"{accepted.Count} accepted bad inputs{List(accepted)}, {badStored} bad events stored, {unclear.Count} refused without a one-line reason{List(unclear)}; {goodIds.Count} good events sent between them, {goodRefused} refused, {stored.Count} events stored")
        {
            AcceptedBadInputs = accepted.Count + badStored,
            UnclearRefusals = unclear.Count,
        };
    }

    /// <summary>A valid structured-mode CloudEvent, keyed "k" (so all good events share one partition and its order).</summary>
    private static string GoodLine(string id) => Good.Replace("ID", id, StringComparison.Ordinal);

    private static string List(List<string> found) => found.Count > 0 ? " (" + string.Join("; ", found) + ")" : "";

    private static Task<DotnetRun.Result> Cli(string storage, string container, params string[] args) =>
        DotnetRun.RunAsync(
            BuiltProgram.Path("src/FaasEvents.Cli", "faas.dll"),
            args,
            new Dictionary<string, string?> { ["FAAS_STORAGE"] = storage, ["FAAS_CONTAINER"] = container, ["NO_COLOR"] = "1" });

    private static string Structured(string attributes) => "{\"specversion\":\"1.0\"," + attributes + "}";

    private static IEnumerable<BadRequest> HttpInputs()
    {
        const string ce = "application/cloudevents+json", batch = "application/cloudevents-batch+json";
        const string ids = "\"id\":\"bad-1\",\"source\":\"/s\",\"type\":\"t\"";
        yield return new("missing source", ce, Structured("\"id\":\"bad-2\",\"type\":\"t\""));
        yield return new("missing type", ce, Structured("\"id\":\"bad-3\",\"source\":\"/s\""));
        yield return new("missing id", ce, Structured("\"source\":\"/s\",\"type\":\"t\""));
        yield return new("empty id", ce, Structured("\"id\":\"\",\"source\":\"/s\",\"type\":\"t\""));
        yield return new("empty source", ce, Structured("\"id\":\"bad-4\",\"source\":\"\",\"type\":\"t\""));
        yield return new("empty type", ce, Structured("\"id\":\"bad-5\",\"source\":\"/s\",\"type\":\"\""));
        yield return new("missing specversion", ce, "{" + ids + "}");
        yield return new("specversion 0.3", ce, "{\"specversion\":\"0.3\"," + ids + "}");
        yield return new("specversion 2.0", ce, "{\"specversion\":\"2.0\"," + ids + "}");
        yield return new("number partitionkey", ce, Structured(ids + ",\"partitionkey\":42"));
        yield return new("boolean partitionkey", ce, Structured(ids + ",\"partitionkey\":true"));
        yield return new("object partitionkey", ce, Structured(ids + ",\"partitionkey\":{\"a\":1}"));
        yield return new("time not a timestamp", ce, Structured(ids + ",\"time\":\"yesterday\""));
        yield return new("id a number", ce, Structured("\"id\":7,\"source\":\"/s\",\"type\":\"t\""));
        yield return new("data_base64 not base64", ce, Structured(ids + ",\"data_base64\":\"%%%\""));
        yield return new("data and data_base64", ce, Structured(ids + ",\"data\":{},\"data_base64\":\"AA==\""));
        yield return new("truncated JSON", ce, "{\"specversion\":\"1.0\",\"id\":\"bad-6\"");
        yield return new("not JSON", ce, "<event/>");
        yield return new("JSON array as one event", ce, "[" + Structured(ids) + "]");
        yield return new("JSON null", ce, "null");
        yield return new("empty body", ce, "");
        yield return new("invalid UTF-8", ce, Encoding.Latin1.GetString([0x7B, 0xFF, 0xFE, 0x7D]), Encoding.Latin1);
        yield return new("empty batch", batch, "[]");
        yield return new("batch not an array", batch, Structured(ids));
        yield return new("batch with a non-object", batch, "[" + Structured(ids) + ",1]");
        yield return new("batch with one bad event after a good one", batch, "[" + Structured("\"id\":\"bad-7\",\"source\":\"/s\",\"type\":\"t\"") + "," + Structured("\"id\":\"bad-8\",\"type\":\"t\"") + "]");
        yield return new("batch with a number partitionkey", batch, "[" + Structured(ids + ",\"partitionkey\":7") + "]");
        yield return new("xml event format", "application/cloudevents+xml", "<e/>");
        yield return new("plain text without ce- headers", "text/plain", "hello");
        yield return new("binary mode without ce-type", "application/json", "{}", Headers: [("ce-specversion", "1.0"), ("ce-id", "bad-9"), ("ce-source", "/s")]);
        yield return new("binary mode without ce-id", "application/json", "{}", Headers: [("ce-specversion", "1.0"), ("ce-source", "/s"), ("ce-type", "t")]);
        yield return new("binary mode specversion 0.3", "application/json", "{}", Headers: [("ce-specversion", "0.3"), ("ce-id", "bad-10"), ("ce-source", "/s"), ("ce-type", "t")]);
        yield return new("binary mode bad ce-time", "application/json", "{}", Headers: [("ce-specversion", "1.0"), ("ce-id", "bad-11"), ("ce-source", "/s"), ("ce-type", "t"), ("ce-time", "nope")]);
        yield return new("event over 1 MiB", ce, Structured(ids + ",\"datacontenttype\":\"text/plain\",\"data\":\"" + new string('x', LogEvent.MaxEncodedSize + 10) + "\""));
        yield return new("body over 4 MiB", batch, "[" + string.Join(',', Enumerable.Repeat(Structured(ids + ",\"data\":\"" + new string('y', 500_000) + "\""), 9)) + "]");
        yield return new("invalid stream name", ce, Structured(ids), Path: "/streams/Bad%20Name/events");
        yield return new("unknown stream", ce, Structured(ids), Path: "/streams/ghost/events");
    }

    private static IEnumerable<(string Name, string Line)> FileLines()
    {
        const string ids = "\"id\":\"bad-f\",\"source\":\"/s\",\"type\":\"t\"";
        yield return ("missing source", Structured("\"id\":\"bad-f1\",\"type\":\"t\""));
        yield return ("empty id", Structured("\"id\":\"\",\"source\":\"/s\",\"type\":\"t\""));
        yield return ("number partitionkey", Structured(ids + ",\"partitionkey\":42"));
        yield return ("boolean partitionkey", Structured(ids + ",\"partitionkey\":false"));
        yield return ("time not a timestamp", Structured(ids + ",\"time\":\"soon\""));
        yield return ("truncated JSON", "{\"specversion\":\"1.0\",");
        yield return ("not JSON", "hello");
        yield return ("specversion 0.3", "{\"specversion\":\"0.3\"," + ids + "}");
        yield return ("a batch array on one line", "[" + Structured(ids) + "]");
        yield return ("event over 1 MiB", Structured(ids + ",\"datacontenttype\":\"text/plain\",\"data\":\"" + new string('x', LogEvent.MaxEncodedSize + 10) + "\""));
    }

    /// <summary>One malformed HTTP request.</summary>
    private sealed record BadRequest(string Name, string ContentType, string Body, Encoding? BodyEncoding = null, (string Name, string Value)[]? Headers = null, string Path = "/streams/" + Stream + "/events")
    {
        public HttpRequestMessage ToRequest()
        {
            var content = new ByteArrayContent((BodyEncoding ?? Encoding.UTF8).GetBytes(Body));
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(ContentType);
            var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Path, UriKind.Relative)) { Content = content };
            request.Headers.ExpectContinue = Body.Length > 1024 * 1024;
            foreach ((string name, string value) in Headers ?? [])
            {
                request.Headers.Add(name, value);
            }

            return request;
        }

        public override string ToString() => Name;
    }
}
