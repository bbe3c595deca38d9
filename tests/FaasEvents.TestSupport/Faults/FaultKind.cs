namespace FaasEvents.TestSupport.Faults;

/// <summary>What an injected storage fault does.</summary>
public enum FaultKind
{
    /// <summary>Answers 503 Server Busy without forwarding: the request did not happen.</summary>
    Refuse503,

    /// <summary>Fails as a connection reset before forwarding: the request did not happen.</summary>
    ResetBeforeSend,

    /// <summary>Forwards the request, then loses the response: it happened, the caller cannot know.</summary>
    DropResponse,

    /// <summary>Forwards the request, then answers 500 instead of the real response: it happened, the caller hears it failed.</summary>
    ForwardThen500,

    /// <summary>Waits (see <see cref="StorageFaultInjector.Delay"/>) before forwarding.</summary>
    Delay,

    /// <summary>
    /// The caller times out at once, but the request is held and reaches storage later, when
    /// <see cref="StorageFaultInjector.LandHeldAsync"/> runs (a request stuck in the network that lands after its retry).
    /// </summary>
    LateLanding,
}
