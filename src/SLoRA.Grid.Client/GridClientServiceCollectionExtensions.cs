using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace SLoRA.Grid.Client;

/// <summary>Registers <see cref="SLoRAGridClient"/>.</summary>
public static class GridClientServiceCollectionExtensions
{
    /// <summary>Adds <see cref="SLoRAGridClient"/> over the container's <see cref="IClusterClient"/> (from UseOrleansClient, or a co-hosted silo).</summary>
    public static IServiceCollection AddSLoRAGridClient(this IServiceCollection services)
    {
        services.TryAddSingleton<SLoRAGridClient>();
        return services;
    }
}
