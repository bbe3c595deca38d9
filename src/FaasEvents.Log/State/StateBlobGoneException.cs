namespace FaasEvents.Log.State;

/// <summary>A state blob of the chain being read was swept (a newer snapshot was committed meanwhile): read the tip again.</summary>
internal sealed class StateBlobGoneException(string name, Exception inner) : Exception($"State blob {name} was swept while being read.", inner);
