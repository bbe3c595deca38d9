namespace FaasEvents.Functions;

/// <summary>Raised at start-up when functions cannot be indexed; the message lists every problem.</summary>
public sealed class FunctionIndexingException : FunctionsException
{
    /// <summary>Creates the exception.</summary>
    public FunctionIndexingException(IReadOnlyList<string> problems)
        : base(FunctionsErrorReason.Indexing, "The function app cannot start:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)))
    {
        Problems = problems;
    }

    /// <summary>Creates the exception.</summary>
    public FunctionIndexingException()
        : this([])
    {
    }

    /// <summary>Creates the exception.</summary>
    public FunctionIndexingException(string message)
        : this([message])
    {
    }

    /// <summary>Creates the exception.</summary>
    public FunctionIndexingException(string message, Exception innerException)
        : base(FunctionsErrorReason.Indexing, message, innerException)
    {
        Problems = [message];
    }

    /// <summary>One line per problem, each naming the method.</summary>
    public IReadOnlyList<string> Problems { get; }
}
