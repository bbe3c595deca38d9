namespace FaasEvents.Reliability;

/// <summary>What one reliability scenario did and what it found. Lost, out of order and reused offsets must be 0.</summary>
/// <param name="Name">Scenario.</param>
/// <param name="Load">The load, in words (events, producers, instances).</param>
/// <param name="Faults">Faults injected, in words.</param>
/// <param name="Lost">Acknowledged events (or their outputs, or model updates) missing at the end.</param>
/// <param name="Duplicated">Events or outputs present more than once (at-least-once redeliveries).</param>
/// <param name="OutOfOrder">Events that overtook an earlier one of the same producer or key.</param>
/// <param name="ReusedOffsets">Offsets held by more than one event, or checkpoints that moved backwards.</param>
/// <param name="Duration">Wall time.</param>
/// <param name="Notes">What else was seen.</param>
public sealed record ScenarioReport(string Name, string Load, string Faults, long Lost, long Duplicated, long OutOfOrder, long ReusedOffsets, TimeSpan Duration, string Notes)
{
    /// <summary>Malformed inputs that were accepted (or left anything in a stream); must be 0.</summary>
    public long AcceptedBadInputs { get; init; }

    /// <summary>Malformed inputs refused without a one-line reason (a 5xx, or a CLI error that is not one <c>error:</c> line); must be 0.</summary>
    public long UnclearRefusals { get; init; }

    /// <summary>What else this scenario requires and did not hold (e.g. "3 events dead-lettered"); must be empty.</summary>
    public IReadOnlyList<string> Broken { get; init; } = [];

    /// <summary>True when nothing was lost, reordered or reused, no bad input was accepted or refused unclearly, and nothing the scenario requires broke.</summary>
    public bool Passed => Lost == 0 && OutOfOrder == 0 && ReusedOffsets == 0 && AcceptedBadInputs == 0 && UnclearRefusals == 0 && Broken.Count == 0;
}
