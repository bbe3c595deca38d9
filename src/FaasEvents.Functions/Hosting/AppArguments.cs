using System.Globalization;

namespace FaasEvents.Functions;

internal sealed record AppArguments(bool List, int? Port, string? InstanceId, string? HostJson, string? Functions, string[] Rest, bool HealthCheck = false)
{
    public static AppArguments Parse(string[] args)
    {
        bool list = false, health = false;
        int? port = null;
        string? instance = null, hostJson = null, functions = null;
        var rest = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new FunctionIndexingException([$"argument {args[i]} needs a value"]);
            switch (args[i])
            {
                case "--list": list = true; break;
                case "--healthcheck": health = true; break;
                case "--port": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--instance-id": instance = Next(); break;
                case "--host-json": hostJson = Next(); break;
                case "--functions": functions = Next(); break;
                default: rest.Add(args[i]); break;
            }
        }

        return new AppArguments(list, port, instance, hostJson, functions, rest.ToArray(), health);
    }
}
