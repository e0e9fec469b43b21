using Orleans.Placement;

namespace SLoRA.Grid.Placement;

/// <summary>Placement of adapter grains by <see cref="AdapterPlacementDirector"/>.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("slora.AdapterPlacement")]
public sealed class AdapterPlacement : PlacementStrategy
{
    internal static AdapterPlacement Instance { get; } = new();
}

/// <summary>Places the grain with <see cref="AdapterPlacementDirector"/>: a warm GPU silo, else the one with most headroom.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class AdapterPlacementAttribute() : PlacementAttribute(AdapterPlacement.Instance);

/// <summary>Placement of a grain keyed by a silo address on exactly that silo.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking, Alias("slora.SiloPinnedPlacement")]
public sealed class SiloPinnedPlacement : PlacementStrategy
{
    internal static SiloPinnedPlacement Instance { get; } = new();
}

/// <summary>Places the grain on the silo its key names (see <see cref="GpuSiloKeys"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloPinnedPlacementAttribute() : PlacementAttribute(SiloPinnedPlacement.Instance);
