return await FaasEvents.Server.ServerMain.RunAsync(args);
