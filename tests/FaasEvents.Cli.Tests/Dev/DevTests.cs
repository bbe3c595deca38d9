using System.Diagnostics;
using System.Text;
using FaasEvents.DevStorage;
using FaasEvents.TestSupport;

namespace FaasEvents.Cli.Tests.Dev;

/// <summary>faas dev as a user runs it: storage, server, autoscaler and the sample app as real processes.</summary>
public class DevTests
{
    [Fact]
    public async Task Dev_wakes_a_function_from_zero_on_an_ingress_post_and_scales_back_to_zero()
    {
        int storage = AzuriteProcess.GetFreePort(), http = AzuriteProcess.GetFreePort(), grpc = AzuriteProcess.GetFreePort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in DevArgs(storage, http, grpc, cooldown: 3, pingSchedule: "off"))
        {
            psi.ArgumentList.Add(a);
        }

        using Process dev = Process.Start(psi)!;
        var output = new ProcessOutput(dev);
        string Out() => output.ToString();
        async Task WaitFor(string text, int seconds)
        {
            var sw = Stopwatch.StartNew();
            while (!Out().Contains(text, StringComparison.Ordinal))
            {
                Assert.False(dev.HasExited, "faas dev exited:\n" + Out());
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(seconds), $"no '{text}' within {seconds} s:\n{Out()}");
                await Task.Delay(50);
            }
        }

        try
        {
            await WaitFor("ready: Ctrl+C stops everything", 120);
            Assert.DoesNotContain("0 -> 1", Out(), StringComparison.Ordinal); // scaled to zero while idle

            using var http1 = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}") };
            using var content = new StringContent("{\"specversion\":\"1.0\",\"id\":\"wake-me-up\",\"source\":\"/tests/dev\",\"type\":\"com.example.wake\",\"datacontenttype\":\"application/json\",\"data\":{\"hello\":\"dev\"}}", Encoding.UTF8, "application/cloudevents+json");
            var wake = Stopwatch.StartNew();
            (await http1.PostAsync(new Uri("/streams/ping/events", UriKind.Relative), content)).EnsureSuccessStatusCode();
            await WaitFor("autoscaler: 0 -> 1 instance(s)", 30);
            await WaitFor("id: wake-me-up", 60); // event-display in the freshly started instance printed it
            TimeSpan toHandler = wake.Elapsed;

            await WaitFor("autoscaler: 1 -> 0 instance(s)", 60); // lag gone + cooldown
            await WaitFor("instance dev-1 stopped (exit 0)", 60); // graceful scale-in
            Console.WriteLine($"POST -> event-display in a fresh instance: {toHandler.TotalSeconds:0.00} s");
        }
        finally
        {
            await dev.TerminateAsync(TimeSpan.FromSeconds(60));
        }

        Assert.Equal(0, dev.ExitCode);
        Assert.Contains("faas dev: stopped", Out(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Ctrl+C in a terminal sends SIGINT to the whole foreground process group: faas dev and every child it started.
    /// The children must not die out of order (Azurite first): faas dev stops them itself, apps, server, then storage.
    /// </summary>
    [Fact]
    public async Task Ctrl_C_to_the_terminal_process_group_stops_everything_in_order_within_seconds_without_stack_traces()
    {
        int storage = AzuriteProcess.GetFreePort(), http = AzuriteProcess.GetFreePort(), grpc = AzuriteProcess.GetFreePort();

        // A terminal's job: node spawns faas dev detached (its own session and process group) with every signal at its
        // default (a test host may run with SIGINT ignored, and children inherit that), and prints its pid.
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-e");
        psi.ArgumentList.Add("const c = require('child_process').spawn(process.argv[1], process.argv.slice(2), { stdio: 'inherit', detached: true }); console.log('job-pid ' + c.pid); c.on('exit', code => process.exit(code ?? 1));");
        foreach (string a in DevArgs(storage, http, grpc, cooldown: 60, pingSchedule: "*/1 * * * * *").Prepend("dotnet"))
        {
            psi.ArgumentList.Add(a);
        }

        using Process dev = Process.Start(psi)!;
        var output = new ProcessOutput(dev);
        string Out() => output.ToString();
        try
        {
            var sw = Stopwatch.StartNew();
            while (!Out().Contains("autoscaler: 0 -> 1", StringComparison.Ordinal))
            {
                Assert.False(dev.HasExited, "faas dev exited:\n" + Out());
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(120), "no instance started:\n" + Out());
                await Task.Delay(100);
            }

            await Task.Delay(TimeSpan.FromSeconds(3)); // the instance is running and handling ping events

            var stopping = Stopwatch.StartNew();
            string job = System.Text.RegularExpressions.Regex.Match(Out(), @"job-pid (\d+)").Groups[1].Value;
            using (Process ctrlC = Process.Start("kill", ["-INT", "--", $"-{job}"])!) // the whole group, as the terminal does
            {
                await ctrlC.WaitForExitAsync();
            }

            bool exited = await dev.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);
            TimeSpan took = stopping.Elapsed;
            string log = Out();
            Assert.True(exited, $"faas dev still running 30 s after Ctrl+C:\n{log}");
            Assert.True(took < TimeSpan.FromSeconds(15), $"stopping took {took.TotalSeconds:0.0} s:\n{log}");
            Assert.Equal(0, dev.ExitCode);
            Assert.Contains("faas dev: stopped", log, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", log, StringComparison.Ordinal); // no stack traces from apps losing storage
            Assert.Contains("instance dev-1 stopped (exit 0)", log, StringComparison.Ordinal); // checkpointed and released
            foreach (int port in new[] { storage, http, grpc })
            {
                Assert.False(await IsListeningAsync(port), $"port {port} still open after faas dev stopped");
            }
        }
        finally
        {
            if (!dev.HasExited)
            {
                dev.Kill(entireProcessTree: true);
            }
        }
    }

    /// <summary>
    /// A second faas dev (or anything else) on the server's port: it used to say "ready" and scale instances against the
    /// other session's server while its own server had exited, the only sign one buried log line.
    /// </summary>
    [Theory]
    [InlineData("--http-port")]
    [InlineData("--grpc-port")]
    public async Task A_server_port_in_use_stops_faas_dev_at_once_naming_the_port(string option)
    {
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        int taken = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;
        int storage = AzuriteProcess.GetFreePort(), free = AzuriteProcess.GetFreePort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in DevArgs(storage, option == "--http-port" ? taken : free, option == "--grpc-port" ? taken : free, cooldown: 3, pingSchedule: "off"))
        {
            psi.ArgumentList.Add(a);
        }

        using Process dev = Process.Start(psi)!;
        var output = new ProcessOutput(dev);
        try
        {
            bool exited = await dev.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90)).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);
            string log = output.ToString();
            Assert.True(exited, "faas dev kept running with its server port taken:\n" + log);
            Assert.NotEqual(0, dev.ExitCode);
            Assert.Contains($"port {taken} ({option}) is in use", log, StringComparison.Ordinal);
            Assert.DoesNotContain("ready", log, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", log, StringComparison.Ordinal);
            Assert.False(await IsListeningAsync(storage), "faas dev left its Azurite running");
        }
        finally
        {
            if (!dev.HasExited)
            {
                dev.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task<bool> IsListeningAsync(int port)
    {
        using var client = new System.Net.Sockets.TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    /// <summary><c>faas dev</c> on in-memory storage with the sample app's event-display function, from this build.</summary>
    private static string[] DevArgs(int storage, int http, int grpc, int cooldown, string pingSchedule) =>
    [
        FaasProcess.Dll, "dev", "--in-memory", "--port", $"{storage}", "--http-port", $"{http}", "--grpc-port", $"{grpc}",
        "--polling-interval", "1", "--cooldown", $"{cooldown}", "--ping-schedule", pingSchedule, "--functions", "event-display",
        "--server-dll", BuiltProgram.Path("src/FaasEvents.Server", "FaasEvents.Server.dll"),
        "--app-dll", BuiltProgram.Path("functions/FaasEvents.Samples", "FaasEvents.Samples.dll"),
    ];
}
