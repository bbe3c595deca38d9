using System.Security.Cryptography;
using System.Text;

namespace FaasEvents.Server.Ingress;

/// <summary>The API key check of the HTTP endpoints that write or watch streams (<c>FAAS_INGRESS_API_KEYS</c>).</summary>
internal static class ApiKeys
{
    /// <summary>True when no keys are configured, or the request presents one in <c>x-api-key</c> or as a bearer token.</summary>
    public static bool Authorized(HttpRequest request, ServerOptions options)
    {
        if (options.IngressApiKeys.Count == 0)
        {
            return true;
        }

        string? presented = request.Headers["x-api-key"].FirstOrDefault();
        string auth = request.Headers.Authorization.ToString();
        if (presented is null && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = auth[7..].Trim();
        }

        if (string.IsNullOrEmpty(presented))
        {
            return false;
        }

        byte[] given = Encoding.UTF8.GetBytes(presented);
        return options.IngressApiKeys.Any(k => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(k), given));
    }
}
