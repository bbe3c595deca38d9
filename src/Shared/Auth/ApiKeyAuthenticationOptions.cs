using Microsoft.AspNetCore.Authentication;

namespace FaasEvents.Hosting.Auth;

/// <summary>The API keys a FaasEvents HTTP surface accepts (UTF-8 bytes, compared in constant time).</summary>
internal sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions
{
    public IReadOnlyList<byte[]> Keys { get; set; } = [];

    /// <summary>The identity each key authenticates as (same order as <see cref="Keys"/>): its name, or <c>api-key</c>.</summary>
    public IReadOnlyList<string> Names { get; set; } = [];

    /// <summary>
    /// A configured key, optionally named: <c>order-service=KEY</c> authenticates as <c>order-service</c> (the producer
    /// identity of what it appends through the ingress); a plain <c>KEY</c> as <c>api-key</c>. A name is letters,
    /// digits, '.', '_' or '-' and the key after it at least 16 characters, so a key that merely contains '=' stays a key.
    /// </summary>
    public static (string Name, string Key) Split(string configured)
    {
        int eq = configured.IndexOf('=', StringComparison.Ordinal);
        if (eq > 0 && configured.Length - eq - 1 >= 16 && configured[..eq].All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            return (configured[..eq], configured[(eq + 1)..]);
        }

        return ("api-key", configured);
    }

    /// <summary>What a refused caller is told to send (names the settings, never a key).</summary>
    public string Hint { get; set; } = "";
}
