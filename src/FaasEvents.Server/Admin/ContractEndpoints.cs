using FaasEvents.Log;
using FaasEvents.Log.Events;
using FaasEvents.Log.Schemas;
using FaasEvents.Server.Ingress;

namespace FaasEvents.Server.Admin;

/// <summary>
/// A stream's contract for editors (the console's produce form): <c>GET /streams/{stream}/schema</c> is its latest
/// schema version, and <c>POST /streams/{stream}/events/validate</c> checks a structured CloudEvent against it exactly
/// as an append would, without appending anything.
/// </summary>
internal static class ContractEndpoints
{
    public static void MapContracts(this WebApplication app)
    {
        app.MapGet("/streams/{stream}/schema", (string stream, EventLogClient log, CancellationToken ct) =>
            AdminErrors.GuardAsync(async () =>
            {
                await log.GetPartitionsAsync(stream, ct); // an unknown stream is a 404 naming it
                StreamSchema? latest = await log.Schemas.GetAsync(stream, cancellationToken: ct);
                return latest is null
                    ? IngressEndpoints.Problem(404, "No contract", $"Stream '{stream}' has no schema: any data is accepted. Register one with 'faas schema register {stream} <file>'.")
                    : Results.Json(new { stream, version = latest.Version, format = latest.Format.ToString().ToLowerInvariant(), registeredAt = latest.RegisteredAt, schema = latest.Schema });
            }));

        app.MapPost("/streams/{stream}/events/validate", (string stream, HttpContext http, EventLogClient log, CancellationToken ct) =>
            AdminErrors.GuardAsync(async () =>
            {
                await log.GetPartitionsAsync(stream, ct);
                using var body = new MemoryStream();
                await http.Request.Body.CopyToAsync(body, ct);
                LogEvent e;
                try
                {
                    e = CloudEventConverter.ParseStructuredJson(body.ToArray());
                }
                catch (EventLogException ex)
                {
                    return IngressEndpoints.Problem(400, "Malformed CloudEvent", ex.Message);
                }

                StreamSchema? latest = await log.Schemas.GetAsync(stream, cancellationToken: ct);
                IReadOnlyList<string> errors = latest is null ? [] : new SchemaValidator(latest).Validate(e);
                return Results.Json(new { valid = errors.Count == 0, version = latest?.Version, errors });
            }));
    }
}
