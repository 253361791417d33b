using Mulan.FakeMcp;

// Over stdio: stdout carries the protocol, so every log goes to stderr.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Services.AddMcpServer().WithStdioServerTransport().WithTools<FakeMcpTools>();
await builder.Build().RunAsync();
