using FaasEvents.Functions;

// Functions are the [Function] methods of this assembly. Register what they need here, as in any .NET app:
// builder.Services.AddSingleton<MyService>();  builder.UseMiddleware<MyMiddleware>();
FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(args);
await builder.Build().RunAsync();
