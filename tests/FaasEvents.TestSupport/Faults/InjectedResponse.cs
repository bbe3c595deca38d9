using System.Diagnostics.CodeAnalysis;
using System.Text;
using Azure;
using Azure.Core;

namespace FaasEvents.TestSupport.Faults;

/// <summary>A storage error response made up by the fault injector (e.g. 503 ServerBusy).</summary>
internal sealed class InjectedResponse : Response
{
    private readonly Dictionary<string, string> headers;

    public InjectedResponse(int status, string errorCode, string requestId)
    {
        Status = status;
        ReasonPhrase = errorCode;
        ClientRequestId = requestId;
        headers = new(StringComparer.OrdinalIgnoreCase)
        {
            ["x-ms-error-code"] = errorCode,
            ["x-ms-client-request-id"] = requestId,
            ["Content-Type"] = "application/json",
        };
        // JSON, because the pipeline's storage error parser is attached in its transport policy, which an injected
        // answer never reaches; Azure.Core's default parser reads this shape.
        ContentStream = new MemoryStream(Encoding.UTF8.GetBytes($"{{\"error\":{{\"code\":\"{errorCode}\",\"message\":\"Injected fault.\"}}}}"));
    }

    public override int Status { get; }

    public override string ReasonPhrase { get; }

    // The pipeline classifies responses in its transport policy, which an injected answer never reaches.
    public override bool IsError => true;

    public override Stream? ContentStream { get; set; }

    public override string ClientRequestId { get; set; }

    public override void Dispose() => ContentStream?.Dispose();

    protected override bool ContainsHeader(string name) => headers.ContainsKey(name);

    protected override IEnumerable<HttpHeader> EnumerateHeaders() => headers.Select(h => new HttpHeader(h.Key, h.Value));

    protected override bool TryGetHeader(string name, [NotNullWhen(true)] out string? value) => headers.TryGetValue(name, out value);

    protected override bool TryGetHeaderValues(string name, [NotNullWhen(true)] out IEnumerable<string>? values)
    {
        values = headers.TryGetValue(name, out string? v) ? [v] : null;
        return values is not null;
    }
}
