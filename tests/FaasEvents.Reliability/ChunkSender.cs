using FaasEvents.Log;

namespace FaasEvents.Reliability;

/// <summary>How the workloads produce, as a user would: a chunk whose send failed transiently is sent again until acknowledged.</summary>
public static class ChunkSender
{
    /// <summary>Runs <paramref name="send"/> until it succeeds; returns how many times it was sent again.</summary>
    public static async Task<int> SendUntilAcknowledgedAsync(Func<Task> send, CancellationToken cancellationToken)
    {
        for (int resent = 0; ; resent++)
        {
            try
            {
                await send();
                return resent;
            }
            catch (EventLogException ex) when (ex.IsTransient)
            {
                await Task.Delay(500, cancellationToken);
            }
        }
    }
}
