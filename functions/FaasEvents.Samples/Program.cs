using FaasEvents.Functions;
using FaasEvents.Samples;
using Microsoft.Extensions.DependencyInjection;

FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(args);
builder.Services.AddSingleton<TaxRates>();
builder.UseMiddleware<SlowInvocationLogger>();
await builder.Build().RunAsync();
