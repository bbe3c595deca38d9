namespace FaasEvents.Log.Storage;

/// <summary>Describes a storage connection string safely (for logs and the CLI): endpoint or account, never a key.</summary>
internal static class ConnectionStrings
{
    /// <summary>Where a connection string points, safe to print: endpoint or account name, never a key.</summary>
    public static string Describe(string connectionString)
    {
        if (connectionString.Contains("UseDevelopmentStorage=true", StringComparison.OrdinalIgnoreCase))
        {
            return "Azurite development storage (http://127.0.0.1:10000/devstoreaccount1)";
        }

        foreach (string part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && part[..eq].Trim().Equals("BlobEndpoint", StringComparison.OrdinalIgnoreCase))
            {
                return part[(eq + 1)..].Trim() + " (connection string)";
            }
        }

        foreach (string part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && part[..eq].Trim().Equals("AccountName", StringComparison.OrdinalIgnoreCase))
            {
                return $"account {part[(eq + 1)..].Trim()} (connection string)";
            }
        }

        return "storage account (connection string)";
    }
}
