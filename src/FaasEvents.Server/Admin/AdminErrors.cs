using FaasEvents.Log;
using FaasEvents.Server.Ingress;

namespace FaasEvents.Server.Admin;

/// <summary>Admin API errors as HTTP problems: unknown stream or group 404, a group held by instances 409, bad input 400.</summary>
internal static class AdminErrors
{
    public static async Task<IResult> GuardAsync(Func<Task<IResult>> body)
    {
        try
        {
            return await body();
        }
        catch (EventLogException ex) when (ex.Reason is EventLogErrorReason.StreamNotFound or EventLogErrorReason.GroupNotFound)
        {
            return IngressEndpoints.Problem(404, ex.Reason == EventLogErrorReason.StreamNotFound ? "Stream not found" : "Group not found", ex.Message);
        }
        catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.GroupInUse)
        {
            return IngressEndpoints.Problem(409, "Group in use", ex.Message);
        }
        catch (EventLogException ex) when (ex.Reason == EventLogErrorReason.InvalidArgument)
        {
            return IngressEndpoints.Problem(400, "Invalid request", ex.Message);
        }
    }
}
