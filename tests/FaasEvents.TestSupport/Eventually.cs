namespace FaasEvents.TestSupport;

/// <summary>Polls a condition until it holds (tests never assert on timing; this only bounds how long they wait).</summary>
public static class Eventually
{
    /// <summary>Waits until <paramref name="condition"/> is true; throws a TimeoutException naming <paramref name="what"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, int seconds = 60)
    {
        ArgumentNullException.ThrowIfNull(condition);
        DateTime deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {seconds} s waiting until {what}.");
            }

            await Task.Delay(100);
        }
    }
}
