using Microsoft.Extensions.Hosting;
using SLoRA.Grid.Silo.Hosting;

// One silo: settings from appsettings.json, SLoRA__Grid__* variables and --SLoRA:Grid:* arguments (docs/GRID.md).
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddSLoRAGrid();
await builder.Build().RunAsync();
