using CloudNative.CloudEvents;
using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Producer;
using FaasEvents.Log.Streams;
using FaasEvents.Server.Scaling;
using FaasEvents.Server.Telemetry;
using Microsoft.AspNetCore.Http.Features;

namespace FaasEvents.Server.Ingress;

/// <summary><c>POST /streams/{stream}/events</c>: CloudEvents over HTTP in binary, structured and batched modes.</summary>
internal static class IngressEndpoints
{
    public static void MapIngress(this WebApplication app)
    {
        app.MapPost("/streams/{stream}/events", HandleAsync);
    }

    private static async Task<IResult> HandleAsync(string stream, HttpContext http, KnownStreams streams, IngressWriter writer, RecentEventIds recent, LagService lag, ServerOptions options)
    {
        try
        {
            StreamDefinition.ValidateName(stream, "stream");
        }
        catch (EventLogException ex)
        {
            return Problem(400, "Invalid stream name", ex.Message);
        }

        if (await streams.FindAsync(stream, http.RequestAborted) is not { } definition)
        {
            return Problem(404, "Stream not found", $"Stream '{stream}' does not exist. Create it first (faas streams create {stream} --partitions N).");
        }

        if (http.Request.ContentLength > options.MaxRequestBodyBytes)
        {
            return Problem(413, "Request too large", $"The body is {http.Request.ContentLength:N0} bytes; the limit is {options.MaxRequestBodyBytes:N0}.");
        }

        byte[] body;
        try
        {
            body = await ReadBodyAsync(http, options.MaxRequestBodyBytes);
        }
        catch (InvalidDataException ex)
        {
            return Problem(413, "Request too large", ex.Message);
        }

        string? contentType = http.Request.ContentType;
        string media = contentType?.Split(';')[0].Trim().ToLowerInvariant() ?? "";
        List<LogEvent> events;
        bool batch = false;
        try
        {
            if (media == "application/cloudevents-batch+json")
            {
                batch = true;
                events = CloudEventConverter.ParseBatchJson(body, contentType!);
                if (events.Count == 0)
                {
                    return Problem(400, "Empty batch", "The batch holds no events.");
                }
            }
            else if (media == "application/cloudevents+json")
            {
                events = [CloudEventConverter.ParseStructuredJson(body)];
            }
            else if (media.StartsWith("application/cloudevents", StringComparison.Ordinal))
            {
                return Problem(415, "Unsupported event format", $"'{media}' is not supported; use application/cloudevents+json, application/cloudevents-batch+json, or binary mode (ce-* headers).");
            }
            else if (http.Request.Headers.ContainsKey("ce-specversion"))
            {
                events = [FromBinary(http.Request, body)];
            }
            else
            {
                return Problem(415, "Not a CloudEvent", $"Content-Type '{contentType}' without ce-* headers is not a CloudEvent. Use binary mode (ce-specversion, ce-id, ce-source, ce-type headers), application/cloudevents+json or application/cloudevents-batch+json.");
            }
        }
        catch (Exception ex) when (ex is EventLogException or ArgumentException or FormatException or InvalidOperationException or System.Text.Json.JsonException)
        {
            return Problem(400, "Malformed CloudEvent", ex.Message.Replace(" (Parameter 'data')", "", StringComparison.Ordinal));
        }

        IReadOnlyList<IngressResult> written;
        try
        {
            written = await writer.WriteAsync(definition, events, IngressProducers.IdentityOf(http.User), http.RequestAborted);
        }
        catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.EventTooLarge)
        {
            return Problem(413, "Event too large", ex.Message);
        }
        catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.InvalidArgument)
        {
            return Problem(400, "Invalid event", ex.Message);
        }
        catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.StreamNotFound)
        {
            return StreamDeleted(stream, streams, recent);
        }
        catch (Exception ex) when (ex is EventLogException { Reason: EventLogErrorReason.StorageFailure } or Azure.RequestFailedException)
        {
            return Problem(503, "Storage unavailable", $"Nothing was written: the ingress could not read the stream's recent event ids to recognise repeats ({ex.Message.Split('\n')[0]}). Send the request again.");
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return Problem(503, "Request aborted", "The client went away before the stream's recent event ids were loaded; nothing was written.");
        }

        List<EventPosition> appended = written.Where(r => r.Sent.Written && !r.Repeated).Select(r => r.Sent.Position!.Value).ToList();
        lag.NotifyAppended(stream, appended);
        ServerInstruments.IngressEvents.Add(appended.Count, ServerInstruments.Stream(stream));
        ServerInstruments.IngressRepeats.Add(written.Count(r => r.Repeated), ServerInstruments.Stream(stream));
        if (written.Any(r => !r.Sent.Written))
        {
            return PartlyWritten(stream, events, written, streams, recent);
        }

        var results = events.Select((e, i) => new { id = e.Id, partition = written[i].Sent.Position!.Value.Partition, offset = written[i].Sent.Position!.Value.Offset, repeated = written[i].Repeated }).ToList();
        return batch ? Results.Json(new { stream, results }, statusCode: 202) : Results.Json(new { stream, results[0].id, results[0].partition, results[0].offset, results[0].repeated }, statusCode: 202);
    }

    private static LogEvent FromBinary(HttpRequest request, byte[] body)
    {
        string specVersion = request.Headers["ce-specversion"].ToString();
        if (specVersion != "1.0")
        {
            throw new ArgumentException($"ce-specversion '{specVersion}' is not supported; use 1.0.");
        }

        var ce = new CloudEvent(CloudEventsSpecVersion.V1_0, CloudEventConverter.ExtensionAttributes);
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> header in request.Headers)
        {
            if (header.Key.StartsWith("ce-", StringComparison.OrdinalIgnoreCase) && !header.Key.Equals("ce-specversion", StringComparison.OrdinalIgnoreCase))
            {
                string name = header.Key[3..].ToLowerInvariant();
                ce.SetAttributeFromString(name, Uri.UnescapeDataString(header.Value.ToString()));
            }
        }

        ce.DataContentType = request.ContentType;
        if (body.Length > 0)
        {
            ce.Data = body;
        }

        string? missing = ce.Id is null ? "ce-id" : ce.Source is null ? "ce-source" : ce.Type is null ? "ce-type" : null;
        if (missing is not null)
        {
            throw new ArgumentException($"Binary-mode CloudEvent is missing the '{missing}' header.");
        }

        return CloudEventConverter.ToLogEvent(ce);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext http, long limit)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        using var ms = new MemoryStream();
        byte[] buffer = new byte[81920];
        int n;
        try
        {
            while ((n = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
            {
                if (ms.Length + n > limit)
                {
                    throw new InvalidDataException($"The body exceeds the limit of {limit:N0} bytes.");
                }

                ms.Write(buffer, 0, n);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == 413)
        {
            throw new InvalidDataException($"The body exceeds the limit of {limit:N0} bytes.", ex);
        }

        return ms.ToArray();
    }

    /// <summary>
    /// Some events were not written (storage failed for their partition): the answer lists every event's status, so
    /// a client retries only those not <c>written</c>. <c>unknown</c> means an attempt may still have landed once.
    /// </summary>
    private static IResult PartlyWritten(string stream, IReadOnlyList<LogEvent> events, IReadOnlyList<IngressResult> written, KnownStreams streams, RecentEventIds recent)
    {
        IReadOnlyList<EventSendResult> sent = [.. written.Select(r => r.Sent)];
        if (sent.All(r => r.Error is EventLogException { Reason: EventLogErrorReason.StreamNotFound }))
        {
            return StreamDeleted(stream, streams, recent);
        }

        if (written.All(r => !r.Sent.Written || r.Repeated) && sent.FirstOrDefault(r => !r.Written)?.Error is EventLogException { Reason: EventLogErrorReason.SchemaViolation or EventLogErrorReason.NotStreamOwner } refused
            && sent.Where(r => !r.Written).All(r => r.Error is EventLogException e && e.Reason == refused.Reason))
        {
            // The producer refuses a call's events together: none of this request's new events was written.
            bool owner = refused.Reason == EventLogErrorReason.NotStreamOwner;
            ServerInstruments.IngressRejected.Add(1, ServerInstruments.Status(owner ? 403 : 400));
            return Results.Problem(detail: refused.Message, statusCode: owner ? 403 : 400, title: owner ? "Not the stream's owner" : "Event does not match the stream's schema", extensions: new Dictionary<string, object?> { ["stream"] = stream });
        }

        int count = sent.Count(r => r.Written);
        var results = events.Select((e, i) => sent[i] switch
        {
            { Written: true } r => new { id = e.Id, status = "written", partition = (int?)r.Position!.Value.Partition, offset = (long?)r.Position!.Value.Offset, repeated = written[i].Repeated, error = (string?)null },
            { Unknown: true } r => new { id = e.Id, status = "unknown", partition = (int?)null, offset = (long?)null, repeated = false, error = (string?)r.Error!.Message.Split('\n')[0] },
            var r => new { id = e.Id, status = "failed", partition = (int?)null, offset = (long?)null, repeated = false, error = (string?)r.Error?.Message.Split('\n')[0] },
        }).ToList();
        bool storage = sent.All(r => r.Written || r.Error is EventLogException { Reason: EventLogErrorReason.StorageFailure } or OperationCanceledException);
        int status = storage ? 503 : 500;
        ServerInstruments.IngressRejected.Add(1, ServerInstruments.Status(status));
        string detail = $"{count} of {events.Count} events were written; the others were not{(results.Any(r => r.status == "unknown") ? " (or, for status 'unknown', may have been, once)" : "")}. Send again only the events whose status is not 'written'.";
        return Results.Problem(detail: detail, statusCode: status, title: "Partly written", extensions: new Dictionary<string, object?> { ["stream"] = stream, ["results"] = results });
    }

    /// <summary>An append found the stream deleted: forget it (and its recent ids) and say so.</summary>
    private static IResult StreamDeleted(string stream, KnownStreams streams, RecentEventIds recent)
    {
        streams.Forget(stream);
        recent.Forget(stream);
        return Problem(404, "Stream not found", $"Stream '{stream}' was deleted. Create it first (faas streams create {stream} --partitions N).");
    }

    internal static IResult Problem(int status, string title, string detail)
    {
        ServerInstruments.IngressRejected.Add(1, ServerInstruments.Status(status));
        return Results.Problem(detail: detail, statusCode: status, title: title);
    }
}
