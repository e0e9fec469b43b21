using System.Collections.Concurrent;

namespace SLoRA.Grid.Hosting;

/// <summary>The adapters whose grains are active on this silo, with the version each serves.</summary>
public sealed class ActiveAdapterRegistry
{
    private readonly ConcurrentDictionary<string, string> _versions = new(StringComparer.Ordinal);

    /// <summary>Records that <paramref name="adapterId"/> serves <paramref name="version"/> here.</summary>
    public void Set(string adapterId, string version) => _versions[adapterId] = version;

    /// <summary>Forgets <paramref name="adapterId"/> (its grain is leaving).</summary>
    public void Remove(string adapterId) => _versions.TryRemove(adapterId, out _);

    /// <summary>The version <paramref name="adapterId"/> serves here, or null when it is not active here.</summary>
    public string? VersionOf(string adapterId) => _versions.TryGetValue(adapterId, out var v) ? v : null;
}
