using System.Net.Sockets;
using Azure;
using FaasEvents.Log;

namespace FaasEvents.Functions;

/// <summary>Turns what stopped a function app from starting into one line that names the cause and the fix.</summary>
internal static class StartupError
{
    /// <summary>The line to print after <c>error: </c>.</summary>
    public static string Describe(Exception ex, int port, string storage)
    {
        Exception root = Unwrap(ex);
        if (IsAddressInUse(ex))
        {
            return $"HTTP port {port} is already in use. Pass another --port (0 picks a free one) or set FAAS_FUNCTIONS_PORT, or stop what holds port {port}.";
        }

        if (root is FunctionIndexingException or HostJsonException || root is EventLogException { Reason: EventLogErrorReason.InvalidArgument })
        {
            return root.Message;
        }

        if (root is RequestFailedException { Status: 401 or 403 } denied)
        {
            return $"storage refused this app's credentials ({storage}: {denied.Status} {denied.ErrorCode}). Check the FAAS_STORAGE setting (or the function's Connection setting) and, with managed identity, that it holds the Storage Blob Data Contributor role.";
        }

        if (root is RequestFailedException or HttpRequestException or SocketException or IOException or TimeoutException or TaskCanceledException
            || root is EventLogException { Reason: EventLogErrorReason.StorageFailure })
        {
            return $"storage did not answer ({storage}: {FirstLine(root)}). Check the FAAS_STORAGE setting (or the function's Connection setting): a connection string, or an https:// blob endpoint used with managed identity; and that the storage is running (locally: ./faas dev --storage-only).";
        }

        return $"start-up failed: {FirstLine(root)} ({root.GetType().Name}).";
    }

    private static bool IsAddressInUse(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e.GetType().Name == "AddressInUseException" || e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
            {
                return true;
            }
        }

        return false;
    }

    private static Exception Unwrap(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: > 0 } agg)
        {
            ex = agg.InnerExceptions[^1]; // the SDK's "retry failed after N tries": the last try says the most
        }

        return ex;
    }

    private static string FirstLine(Exception ex)
    {
        string text = ex is RequestFailedException { Status: > 0 } r ? $"{r.Status} {r.ErrorCode}".Trim() : ex.Message;
        int newline = text.IndexOfAny(['\r', '\n']);
        return (newline >= 0 ? text[..newline] : text).TrimEnd('.');
    }
}
