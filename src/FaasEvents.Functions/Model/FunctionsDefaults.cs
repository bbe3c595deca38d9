using FaasEvents.Log;

namespace FaasEvents.Functions;

/// <summary>Defaults shared by the programming model.</summary>
public static class FunctionsDefaults
{
    /// <summary>The setting (environment variable) read for storage unless a trigger names another.</summary>
    public const string ConnectionSetting = FaasSettings.Storage;
}
