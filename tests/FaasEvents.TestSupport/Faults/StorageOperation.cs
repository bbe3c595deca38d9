using Azure.Core;

namespace FaasEvents.TestSupport.Faults;

/// <summary>Names a Blob REST request the way the storage docs do, so a fault can target one operation.</summary>
public static class StorageOperation
{
    public const string AppendBlock = "AppendBlock";
    public const string CreateBlob = "CreateBlob";
    public const string PutBlock = "PutBlock";
    public const string PutBlockList = "PutBlockList";
    public const string SetMetadata = "SetMetadata";
    public const string GetProperties = "GetProperties";
    public const string GetBlob = "GetBlob";
    public const string List = "List";
    public const string Delete = "Delete";
    public const string AcquireLease = "Lease.acquire";
    public const string RenewLease = "Lease.renew";
    public const string ReleaseLease = "Lease.release";
    public const string BreakLease = "Lease.break";

    /// <summary>The operation a request performs.</summary>
    public static string Of(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Of(request.Method.Method, request.Uri.Query, request.Headers.TryGetValue("x-ms-lease-action", out string? action) ? action : null);
    }

    /// <summary>The operation of a request given by its method, query string and lease action header.</summary>
    public static string Of(string method, string query, string? leaseAction)
    {
        if (query.Contains("comp=appendblock", StringComparison.Ordinal))
        {
            return AppendBlock;
        }

        if (query.Contains("comp=lease", StringComparison.Ordinal))
        {
            return leaseAction is null ? "Lease" : "Lease." + leaseAction;
        }

        if (query.Contains("comp=metadata", StringComparison.Ordinal))
        {
            return method == "PUT" ? SetMetadata : GetProperties;
        }

        if (query.Contains("comp=blocklist", StringComparison.Ordinal))
        {
            return method == "PUT" ? PutBlockList : "GetBlockList";
        }

        if (query.Contains("comp=block", StringComparison.Ordinal))
        {
            return PutBlock;
        }

        if (query.Contains("comp=list", StringComparison.Ordinal))
        {
            return List;
        }

        return method switch
        {
            "PUT" => CreateBlob,
            "HEAD" => GetProperties,
            "GET" => GetBlob,
            "DELETE" => Delete,
            _ => method,
        };
    }

    /// <summary>True for requests that change storage (the ones whose lost response is ambiguous).</summary>
    public static bool IsWrite(Request request) => IsWrite(request.Method.Method);

    /// <summary>True for methods that change storage.</summary>
    public static bool IsWrite(string method) => method is "PUT" or "DELETE" or "POST";
}
