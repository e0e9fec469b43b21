using SLoRA.Grid.Http.Hosting;
using SLoRA.Grid.Silo.Hosting;

// One silo and its HTTP facade: settings from appsettings.json, SLoRA__Grid__* / SLoRA__Http__*
// variables and --SLoRA:Grid:* / --SLoRA:Http:* / --urls arguments (docs/GRID.md).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.UseDefaultUrl();
builder.AddSLoRAGrid();
builder.AddSLoRAGridHttp();
var app = builder.Build();
app.MapSLoRAGridApi();
app.AnnounceWhenServing();
await app.RunAsync();
