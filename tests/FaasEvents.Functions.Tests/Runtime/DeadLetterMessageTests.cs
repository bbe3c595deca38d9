using FaasEvents.Functions.Runtime;

namespace FaasEvents.Functions.Tests.Runtime;

/// <summary>The dlqerror attribute is cut to 1,024 characters without splitting a character (issue 12, defect 3).</summary>
public class DeadLetterMessageTests
{
    [Fact]
    public void A_message_cut_at_the_limit_never_ends_in_half_a_surrogate_pair()
    {
        // "InvalidOperationException: " is 27 characters: the emoji's two UTF-16 units land at 1023 and 1024.
        string message = new string('x', 1023 - 27) + "\U0001F600 and more";
        string cut = DeadLetterWriter.ErrorText(new InvalidOperationException(message));

        Assert.True(cut.Length <= 1024);
        Assert.False(char.IsHighSurrogate(cut[^1]), "the cut left a lone high surrogate, which is not valid text (JSON encoders replace or refuse it)");
        Assert.StartsWith("InvalidOperationException: xxx", cut, StringComparison.Ordinal);
    }

    [Fact]
    public void A_short_message_is_kept_whole() =>
        Assert.Equal("TimeoutException: slow", DeadLetterWriter.ErrorText(new TimeoutException("slow")));
}
