using FaasEvents.Functions;

namespace FaasEvents.Samples;

/// <summary>An email to send: a job on the 'emails' stream.</summary>
public sealed record EmailJob(string JobId, string To, string Subject);

/// <summary>What the sender emits for each email it sent.</summary>
public sealed record EmailSent(string JobId, string To, int Delivery, DateTimeOffset SentAt);

/// <summary>Jobs consumed as a queue: any number of instances share every partition, each job acknowledged on its own.</summary>
public static class EmailFunctions
{
    /// <summary>
    /// Sends each email job (a 20 ms round trip to the mail server: I/O-bound work that scales with instances, past the
    /// stream's partition count). A job for a mailbox that does not exist ('@invalid') fails every delivery and is
    /// dead-lettered with its delivery history after maxDeliveryCount; others that fail are released and come back.
    /// </summary>
    [Function("email-sender")]
    [EventOutput("emails.sent", Type = "com.example.email.sent")]
    public static async Task<EmailSent> Send([EventTrigger("emails", Mode = Consumption.Queue)] EmailJob job, FunctionContext context, TimeProvider time, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken);
        if (job.To.EndsWith("@invalid", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Mailbox {job.To} does not exist (job {job.JobId}).");
        }

        return new EmailSent(job.JobId, job.To, context.RetryAttempt + 1, time.GetUtcNow());
    }
}
