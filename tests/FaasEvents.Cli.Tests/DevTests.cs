using System.Diagnostics;
using System.Text;
using FaasEvents.DevStorage;

namespace FaasEvents.Cli.Tests;

/// <summary>faas dev as a user runs it: storage, server, autoscaler and the sample app as real processes.</summary>
public class DevTests
{
    [Fact]
    public async Task Dev_wakes_a_function_from_zero_on_an_ingress_post_and_scales_back_to_zero()
    {
        int storage = AzuriteProcess.GetFreePort(), http = AzuriteProcess.GetFreePort(), grpc = AzuriteProcess.GetFreePort();
        string bin = AppContext.BaseDirectory;
        string root = AzuriteProcess.FindRepositoryRoot()!;
        string config = new DirectoryInfo(bin).Parent!.Name; // Debug or Release, like this test's own build
        string serverDll = Path.Combine(root, "src", "FaasEvents.Server", "bin", config, "net10.0", "FaasEvents.Server.dll");
        string appDll = Path.Combine(root, "functions", "FaasEvents.Samples", "bin", config, "net10.0", "FaasEvents.Samples.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[]
        {
            FaasProcess.Dll, "dev", "--in-memory", "--port", $"{storage}", "--http-port", $"{http}", "--grpc-port", $"{grpc}",
            "--polling-interval", "1", "--cooldown", "3", "--ping-schedule", "off", "--functions", "event-display",
            "--server-dll", serverDll, "--app-dll", appDll,
        })
        {
            psi.ArgumentList.Add(a);
        }

        var output = new StringBuilder();
        using Process dev = Process.Start(psi)!;
        dev.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        dev.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        dev.BeginOutputReadLine();
        dev.BeginErrorReadLine();
        string Out() { lock (output) { return output.ToString(); } }
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
}
