namespace SLoRA.Grid.Placement;

/// <summary>How adapters are spread over GPU silos and when they move.</summary>
public sealed class GridPlacementOptions
{
    /// <summary>How often each GPU silo publishes its status.</summary>
    public TimeSpan HeartbeatPeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Headroom one active adapter costs a silo (spreads adapters even while pools are empty).</summary>
    public double AdapterWeight { get; set; } = 0.05;

    /// <summary>Headroom one waiting request costs a silo.</summary>
    public double QueueWeight { get; set; } = 0.05;

    /// <summary>Headroom one running request costs a silo.</summary>
    public double RunningWeight { get; set; } = 0.01;

    /// <summary>A silo with this many waiting requests is overloaded.</summary>
    public int OverloadWaitingRequests { get; set; } = 16;

    /// <summary>A silo with less than this fraction of its pool free is overloaded.</summary>
    public double OverloadFreeFraction { get; set; } = 0.05;

    /// <summary>Whether adapters leave an overloaded silo for one with room.</summary>
    public bool EnableMigration { get; set; } = true;

    /// <summary>How often an active adapter checks whether its silo is overloaded.</summary>
    public TimeSpan MigrationCheckPeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>At most one adapter leaves a silo per cooldown, so that load is shed gradually.</summary>
    public TimeSpan MigrationCooldown { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The target must have at least this much more headroom than the overloaded silo.</summary>
    public double MigrationMinGain { get; set; } = 0.25;

    /// <summary>Most adapter ids each heartbeat lists (active and warm, each).</summary>
    public int MaxAdapterIdsPerHeartbeat { get; set; } = 1024;

    /// <summary>The Retry-After given to callers refused by a full queue.</summary>
    public TimeSpan OverloadRetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (HeartbeatPeriod <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(HeartbeatPeriod), HeartbeatPeriod, "must be positive");
        if (MigrationCheckPeriod <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MigrationCheckPeriod), MigrationCheckPeriod, "must be positive");
        if (MigrationCooldown < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MigrationCooldown), MigrationCooldown, "must not be negative");
        if (AdapterWeight < 0 || QueueWeight < 0 || RunningWeight < 0) throw new ArgumentOutOfRangeException(nameof(AdapterWeight), "weights must not be negative");
        if (OverloadWaitingRequests < 1) throw new ArgumentOutOfRangeException(nameof(OverloadWaitingRequests), OverloadWaitingRequests, "must be at least 1");
        if (OverloadFreeFraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(OverloadFreeFraction), OverloadFreeFraction, "must be in [0, 1)");
        if (MigrationMinGain < 0) throw new ArgumentOutOfRangeException(nameof(MigrationMinGain), MigrationMinGain, "must not be negative");
        if (MaxAdapterIdsPerHeartbeat < 0) throw new ArgumentOutOfRangeException(nameof(MaxAdapterIdsPerHeartbeat), MaxAdapterIdsPerHeartbeat, "must not be negative");
    }
}
