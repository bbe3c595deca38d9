using FaasEvents.Log.Producer;

namespace FaasEvents.Server.Ingress;

/// <summary>What became of one posted event: its send result, and whether it was a repeat answered with the first copy's position.</summary>
internal sealed record IngressResult(EventSendResult Sent, bool Repeated);
