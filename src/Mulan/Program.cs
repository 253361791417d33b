// mulan: `serve` runs the server (see Hosting/MulanServer.cs for its table of contents); the other verbs are
// clients of a running server.
return await Mulan.Cli.MulanCli.RunAsync(args);

/// <summary>Entry point type, named for tests.</summary>
public partial class Program;
