using FaasEvents.Cli;

return await FaasCli.RunAsync(args);
