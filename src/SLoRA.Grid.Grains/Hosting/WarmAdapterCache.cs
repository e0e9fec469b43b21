using Microsoft.Extensions.Options;
using SLoRA.Engine.Adapters;

namespace SLoRA.Grid.Hosting;

/// <summary>How much host memory a silo keeps for adapters whose grains have left it.</summary>
public sealed class WarmCacheOptions
{
    /// <summary>Bytes of adapter weights kept after deactivation; 0 frees them at once.</summary>
    public long MaxBytes { get; set; } = 512L << 20;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (MaxBytes < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxBytes), MaxBytes, "must not be negative");
    }
}

/// <summary>
/// The warm tier of this silo: adapters whose grain deactivated here stay in host memory, least
/// recently used first out, within <see cref="WarmCacheOptions.MaxBytes"/>. The placement
/// director prefers a silo that holds an adapter warm, and the adapter's next activation there
/// takes it from this cache instead of the store. Thread-safe.
/// </summary>
public sealed class WarmAdapterCache(IOptions<WarmCacheOptions> options)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Entry> _lru = [];
    private readonly Dictionary<string, LinkedListNode<Entry>> _byId = new(StringComparer.Ordinal);
    private long _bytes;

    private sealed record Entry(string AdapterId, string Version, LoraAdapter Adapter, long Bytes);

    /// <summary>Bytes held.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock)
                return _bytes;
        }
    }

    /// <summary>Ids held, most recently used first.</summary>
    public IReadOnlyList<string> Ids(int max = int.MaxValue)
    {
        lock (_lock)
            return [.. _lru.Take(max).Select(e => e.AdapterId)];
    }

    /// <summary>Whether <paramref name="adapterId"/> is held (any version).</summary>
    public bool Contains(string adapterId)
    {
        lock (_lock)
            return _byId.ContainsKey(adapterId);
    }

    /// <summary>Keeps an adapter after its grain left; older entries make room, and one too large is dropped.</summary>
    public void Put(string adapterId, string version, LoraAdapter adapter)
    {
        long bytes = SizeOf(adapter);
        lock (_lock)
        {
            RemoveLocked(adapterId);
            if (bytes > options.Value.MaxBytes)
                return;
            while (_bytes + bytes > options.Value.MaxBytes && _lru.Last is { } oldest)
                RemoveLocked(oldest.Value.AdapterId);
            _byId[adapterId] = _lru.AddFirst(new Entry(adapterId, version, adapter, bytes));
            _bytes += bytes;
        }
    }

    /// <summary>Takes the adapter out when the held version is <paramref name="version"/>; null otherwise (a stale version is dropped).</summary>
    public LoraAdapter? TryTake(string adapterId, string version)
    {
        lock (_lock)
        {
            if (!_byId.TryGetValue(adapterId, out var node))
                return null;
            RemoveLocked(adapterId);
            return node.Value.Version == version ? node.Value.Adapter : null;
        }
    }

    /// <summary>Takes the adapter out whatever its version (the store cannot say which is current); null when not held.</summary>
    public (string Version, LoraAdapter Adapter)? TakeAny(string adapterId)
    {
        lock (_lock)
        {
            if (!_byId.TryGetValue(adapterId, out var node))
                return null;
            RemoveLocked(adapterId);
            return (node.Value.Version, node.Value.Adapter);
        }
    }

    /// <summary>Drops an adapter unless the version held is <paramref name="keepVersion"/> (null drops any: it was deleted).</summary>
    public void Evict(string adapterId, string? keepVersion = null)
    {
        lock (_lock)
        {
            if (_byId.TryGetValue(adapterId, out var node) && node.Value.Version != keepVersion)
                RemoveLocked(adapterId);
        }
    }

    private void RemoveLocked(string adapterId)
    {
        if (_byId.Remove(adapterId, out var node))
        {
            _lru.Remove(node);
            _bytes -= node.Value.Bytes;
        }
    }

    /// <summary>Host bytes of an adapter's weights (fp16 A and B).</summary>
    public static long SizeOf(LoraAdapter adapter) =>
        adapter.Modules.Sum(m => ((long)m.A.Length + m.B.Length) * sizeof(ushort));
}
