namespace FaasEvents.Reliability;

/// <summary>How big a scenario runs: <see cref="Quick"/> in CI, <see cref="Full"/> on demand.</summary>
/// <param name="Events">Events produced.</param>
/// <param name="Kills">Instances killed (kill scenarios).</param>
/// <param name="Soak">How long the soak runs.</param>
/// <param name="Drain">How long a scenario may take to work off its backlog after the load ends.</param>
public sealed record ScenarioSize(int Events, int Kills, TimeSpan Soak, TimeSpan Drain)
{
    public static ScenarioSize Quick { get; } = new(4_000, 2, TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(5));

    public static ScenarioSize Full { get; } = new(100_000, 8, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(30));
}
