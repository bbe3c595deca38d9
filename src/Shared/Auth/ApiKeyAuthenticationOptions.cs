using Microsoft.AspNetCore.Authentication;

namespace FaasEvents.Hosting.Auth;

/// <summary>The API keys a FaasEvents HTTP surface accepts (UTF-8 bytes, compared in constant time).</summary>
internal sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions
{
    public IReadOnlyList<byte[]> Keys { get; set; } = [];

    /// <summary>What a refused caller is told to send (names the settings, never a key).</summary>
    public string Hint { get; set; } = "";
}
