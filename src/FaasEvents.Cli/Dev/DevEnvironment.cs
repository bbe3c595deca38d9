using System.Diagnostics;
using System.Globalization;
using FaasEvents.DevStorage;
using FaasEvents.Log;
using FaasEvents.Log.Consumers;
using FaasEvents.Log.Streams;
using FaasEvents.Server.Scaling.Grpc;
using Grpc.Net.Client;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FaasEvents.Cli.Dev;

/// <summary>
/// The local one-command environment: Azurite, the control plane with a ping source, and the sample function app
/// scaled 0..N by <see cref="Autoscaler"/> through the server's KEDA scaler, with a live view.
/// </summary>
internal sealed class DevEnvironment
{
    private const int RecentLines = 14;
    private readonly DevSettings settings;
    private readonly Queue<string> recent = new();
    private readonly List<ManagedProcess> instances = [];
    private readonly bool interactive;
    private readonly Dictionary<string, long> lastEvents = new(StringComparer.Ordinal); // stream -> events at the last render
    private long lastRender = Stopwatch.GetTimestamp();
    private int nextInstance = 1;
    private volatile bool live;

    public DevEnvironment(DevSettings settings)
    {
        this.settings = settings;
        interactive = !settings.Logs && AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
    }

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        DevWorkspace workspace = DevWorkspace.Resolve(Directory.GetCurrentDirectory(), settings.Project, settings.AppDll);
        AzuriteProcess? azurite = null;
        ManagedProcess? server = null;
        try
        {
            foreach ((int port, string option) in new[] { (settings.HttpPort, "--http-port"), (settings.GrpcPort, "--grpc-port") })
            {
                if (await AzuriteProcess.IsListeningAsync(port, cancellationToken))
                {
                    // Checked first: the start-up wait for the server would take another program on its ports (another faas dev's server) for this one.
                    throw new InvalidOperationException($"port {port} ({option}) is in use by another program (another faas dev?); stop it or choose another {option}.");
                }
            }

            string appDll = settings.AppDll ?? await BuildAppAsync(workspace.AppProject!, cancellationToken);
            if (await AzuriteProcess.IsListeningAsync(settings.StoragePort, cancellationToken))
            {
                Say($"storage: using what already listens on 127.0.0.1:{settings.StoragePort}");
            }
            else
            {
                string data = Path.Combine(workspace.DataRoot, ".faas", "azurite");
                Say($"storage: starting Azurite on 127.0.0.1:{settings.StoragePort} ({(settings.InMemory ? "in memory" : $"data in {data}")})");
                azurite = await AzuriteProcess.StartAsync(workspace.ToolsRoot, settings.StoragePort, settings.InMemory ? null : data, Say, cancellationToken);
            }

            string connection = AzuriteProcess.GetConnectionString(settings.StoragePort);
            var env = new Dictionary<string, string> { [FaasSettings.Storage] = connection, [FaasSettings.Container] = settings.Container };
            if (settings.Functions is not null)
            {
                env[FaasSettings.Functions] = settings.Functions; // instances run only these, and only these are scaled on
            }
            var log = new EventLogClient(connection, new EventLogClientOptions { ContainerName = settings.Container });

            string? ping = settings.PingSchedule switch { "off" => null, null => workspace.IsSamples ? "*/10 * * * * *" : null, string s => s };
            List<ScaleTrigger> triggers = await DiscoverAsync(appDll, env, log, ping is not null, cancellationToken);
            int partitions = 0;
            foreach (string stream in triggers.Select(t => t.Stream).Distinct())
            {
                partitions = Math.Max(partitions, (await log.GetStreamAsync(stream, cancellationToken)).Partitions);
            }

            var serverArgs = new List<string> { "--http-port", settings.HttpPort.ToString(CultureInfo.InvariantCulture), "--grpc-port", settings.GrpcPort.ToString(CultureInfo.InvariantCulture) };
            if (ping is not null)
            {
                serverArgs.AddRange(["--PingSources:0:Name=ping", $"--PingSources:0:Schedule={ping}", "--PingSources:0:Stream=ping", "--PingSources:0:Data={\"message\":\"Hello from the FaasEvents ping source\"}"]);
            }

            // The control plane runs from this same tool ('faas server') unless a built server is given.
            server = settings.ServerDll is { } serverDll
                ? ManagedProcess.Start("server", serverDll, serverArgs, env, OnLine)
                : ManagedProcess.Start("server", Path.Combine(AppContext.BaseDirectory, "faas.dll"), ["server", .. serverArgs], env, OnLine);
            await WaitForPortAsync(settings.GrpcPort, server, cancellationToken);
            Say($"server: ingress http://127.0.0.1:{settings.HttpPort}/streams/{{stream}}/events, scaler grpc 127.0.0.1:{settings.GrpcPort}{(ping is null ? "" : $", ping source '{ping}' -> ping")}");
            Say($"console: http://127.0.0.1:{settings.HttpPort}/console/ (streams, events, groups, dead letters, produce)");
            env[FaasSettings.ServerUrl] = $"http://127.0.0.1:{settings.HttpPort}"; // instances hear of appends at once, and say when they append
            if (Environment.GetEnvironmentVariable(FaasSettings.ServerApiKey) is null
                && FaasSettings.ParseApiKeys(Environment.GetEnvironmentVariable(FaasSettings.ApiKeys) ?? Environment.GetEnvironmentVariable(FaasSettings.IngressApiKeys)) is [string key, ..])
            {
                env[FaasSettings.ServerApiKey] = key; // the server requires a key (FAAS_API_KEYS exported): instances present one
            }
            Say($"append notices: instances follow the server's; in another terminal, export {FaasSettings.ServerUrl}=http://127.0.0.1:{settings.HttpPort} so 'faas produce' wakes functions at once");

            using GrpcChannel channel = GrpcChannel.ForAddress($"http://127.0.0.1:{settings.GrpcPort}");
            // Instances past the partition count only help queue-consumed functions: the default allows twice the partitions for them.
            int max = settings.MaxReplicas ?? (triggers.Any(t => t.Queue) ? Math.Max(partitions * 2, 4) : partitions);
            var autoscaler = new Autoscaler(new ExternalScaler.ExternalScalerClient(channel), triggers, max, settings.PollingInterval, settings.Cooldown, n => ScaleToAsync(n, appDll, env), settings.Push);
            Say($"autoscaler: {triggers.Count} trigger(s), lagThreshold {settings.LagThreshold}, 0..{max} instances, polling {settings.PollingInterval.TotalSeconds:0.#} s{(settings.Push ? " + StreamIsActive push" : " only (no push)")}, cooldown {settings.Cooldown.TotalSeconds:0.#} s");
            Say("ready: Ctrl+C stops everything");
            Task scaling = autoscaler.RunAsync(cancellationToken);
            if (interactive)
            {
                live = true;
                await AnsiConsole.Live(new Text("starting ...")).StartAsync(async ctx =>
                {
                    while (!cancellationToken.IsCancellationRequested)
                    {
                        ctx.UpdateTarget(await RenderAsync(log, autoscaler, cancellationToken));
                        await Task.Delay(1000, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
                    }
                });
            }

            await scaling;
            return 0;
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OperationCanceledException or Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.Cancelled })
        {
            return 0; // Ctrl+C: a scaler call cancelled on its way out is part of stopping, not an error
        }
        finally
        {
            live = false;
            Say("stopping: function instances (graceful), server, storage ...");
            await ScaleToAsync(0, "", new Dictionary<string, string>());
            if (server is not null)
            {
                await server.DisposeAsync();
            }

            if (azurite is not null)
            {
                await azurite.DisposeAsync();
            }

            Say("stopped");
        }
    }

    private async Task<List<ScaleTrigger>> DiscoverAsync(string appDll, Dictionary<string, string> env, EventLogClient log, bool ping, CancellationToken cancellationToken)
    {
        var triggers = new List<ScaleTrigger>();
        var streams = new HashSet<string>(StringComparer.Ordinal);
        if (ping)
        {
            streams.Add("ping"); // the ping source's stream
        }

        foreach (Commands.ListedFunction f in await Commands.FunctionAppListing.ListAsync(appDll, env, cancellationToken))
        {
            triggers.Add(new ScaleTrigger(f.Name, f.Stream, f.ConsumerGroup, settings.LagThreshold, 0, f.IsQueue));
            streams.Add(f.Stream);
            if (f.OutputStream is { } output)
            {
                streams.Add(output);
            }
        }

        // The app is scaled to zero, so the streams it would create must exist before the scaler is asked about them.
        foreach (string stream in streams)
        {
            if (await log.TryGetStreamAsync(stream, cancellationToken) is null)
            {
                await log.CreateStreamAsync(new StreamDefinition { Name = stream, Partitions = 4 }, cancellationToken);
                Say($"streams: created '{stream}' (4 partitions)");
            }
        }

        Say($"functions: {string.Join(", ", triggers.Select(t => $"{t.Function} ({t.Stream})"))}");
        return triggers;
    }

    private async Task ScaleToAsync(int target, string appDll, IDictionary<string, string> env)
    {
        int before;
        lock (instances)
        {
            before = instances.Count;
        }

        if (target == before)
        {
            return;
        }

        Say($"autoscaler: {before} -> {target} instance(s)");
        while (true)
        {
            ManagedProcess? stop = null;
            lock (instances)
            {
                if (instances.Count < target)
                {
                    string id = $"dev-{nextInstance++}";
                    instances.Add(ManagedProcess.Start(id, appDll, ["--port", "0", "--instance-id", id], env, OnLine));
                    continue;
                }

                if (instances.Count > target)
                {
                    stop = instances[^1];
                    instances.RemoveAt(instances.Count - 1);
                }
            }

            if (stop is null)
            {
                break;
            }

            int code = await stop.StopAsync(TimeSpan.FromSeconds(30));
            Say($"instance {stop.Name} stopped (exit {code})");
        }
    }

    private async Task<IRenderable> RenderAsync(EventLogClient log, Autoscaler autoscaler, CancellationToken cancellationToken)
    {
        var groups = new Table().Title("consumer groups (lag from the scaler)").AddColumns("Function", "Stream", "Group", "Lag", "Active", "Wants");
        foreach (TriggerState s in autoscaler.Last)
        {
            groups.AddRow(Markup.Escape(s.Trigger.Function), Markup.Escape(s.Trigger.Stream), Markup.Escape(s.Trigger.ConsumerGroup), s.Metric.ToString("N0", CultureInfo.InvariantCulture), s.Active ? "[green]yes[/]" : "no", s.Desired.ToString(CultureInfo.InvariantCulture));
        }

        var streams = new Table().Title("streams").AddColumns("Stream", "Partitions", "Events", "Events/s");
        double seconds = Stopwatch.GetElapsedTime(lastRender).TotalSeconds;
        lastRender = Stopwatch.GetTimestamp();
        try
        {
            await foreach (StreamDefinition def in log.ListStreamsAsync(cancellationToken))
            {
                IReadOnlyList<PartitionInfo> parts = await log.GetPartitionsAsync(def.Name, cancellationToken);
                long appended = parts.Sum(p => p.EndOffset); // end offsets only grow: retention and compaction do not lower the rate
                string rate = lastEvents.TryGetValue(def.Name, out long before) && seconds > 0 ? ((appended - before) / seconds).ToString("N0", CultureInfo.InvariantCulture) : "-";
                lastEvents[def.Name] = appended;
                streams.AddRow(Markup.Escape(def.Name), def.Partitions.ToString(CultureInfo.InvariantCulture), parts.Sum(p => p.RetainedEvents).ToString("N0", CultureInfo.InvariantCulture), rate);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            streams.AddRow("[red]" + Markup.Escape(ex.Message.Split('\n')[0]) + "[/]", "", "", "");
        }

        var inst = new Table().Title($"function app instances: {autoscaler.Replicas}").AddColumns("Instance", "PID", "Since");
        lock (instances)
        {
            foreach (ManagedProcess p in instances)
            {
                inst.AddRow(p.Name, p.Pid.ToString(CultureInfo.InvariantCulture), p.Started.ToString("HH:mm:ss", CultureInfo.InvariantCulture));
            }
        }

        string[] lines;
        lock (recent)
        {
            lines = [.. recent];
        }

        var output = new Panel(new Text(string.Join('\n', lines))) { Header = new PanelHeader("recent output (event-display shows here)") };
        var header = new Markup($"[bold]faas dev[/]  storage :{settings.StoragePort}  ingress http://127.0.0.1:{settings.HttpPort}  scaler :{settings.GrpcPort}  {(autoscaler.LastError is null ? "" : "[red]" + Markup.Escape(autoscaler.LastError) + "[/]")}  Ctrl+C stops");
        return new Rows(header, new Columns(groups, inst), streams, output);
    }

    private void OnLine(string source, string line)
    {
        if (interactive)
        {
            lock (recent)
            {
                recent.Enqueue($"[{source}] {line}");
                while (recent.Count > RecentLines)
                {
                    recent.Dequeue();
                }
            }
        }
        else
        {
            Console.Out.WriteLine($"[{source}] {line}");
        }
    }

    private void Say(string message)
    {
        string line = $"{DateTime.Now:HH:mm:ss} faas dev: {message}";
        if (interactive)
        {
            lock (recent)
            {
                recent.Enqueue(line);
                while (recent.Count > RecentLines)
                {
                    recent.Dequeue();
                }
            }

            if (!live)
            {
                AnsiConsole.WriteLine(line);
            }
        }
        else
        {
            Console.Out.WriteLine(line);
        }
    }

    /// <summary>Builds the function app (Release) and returns its assembly's path; a failed build is shown as the compiler said it.</summary>
    private async Task<string> BuildAppAsync(string project, CancellationToken cancellationToken)
    {
        Say($"building the function app (dotnet build {project}) ...");
        (int code, string output) = await DotnetAsync(["build", project, "-c", "Release", "--nologo", "-v", "q", "-clp:NoSummary"], cancellationToken);
        if (code != 0)
        {
            throw new InvalidOperationException($"building the function app failed (dotnet build {project}):\n{output.Trim()}");
        }

        (code, output) = await DotnetAsync(["msbuild", project, "-p:Configuration=Release", "-getProperty:TargetPath", "-nologo"], cancellationToken);
        string dll = output.Trim();
        return code == 0 && File.Exists(dll) ? dll : throw new InvalidOperationException($"cannot find what building {project} produced (dotnet msbuild -getProperty:TargetPath said: {dll}).");
    }

    private static async Task<(int Code, string Output)> DotnetAsync(string[] args, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi)!;
        Task<string> stderr = p.StandardError.ReadToEndAsync(cancellationToken);
        string stdout = await p.StandardOutput.ReadToEndAsync(cancellationToken);
        await p.WaitForExitAsync(cancellationToken);
        return (p.ExitCode, stdout + await stderr);
    }

    private static async Task WaitForPortAsync(int port, ManagedProcess process, CancellationToken cancellationToken)
    {
        for (int i = 0; i < 300; i++)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the {process.Name} exited during start-up (is port {port} in use?)");
            }

            if (await AzuriteProcess.IsListeningAsync(port, cancellationToken))
            {
                return;
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException($"the {process.Name} did not listen on port {port} within 30 s");
    }
}
