namespace SLoRA.Engine.Scheduling;

/// <summary>What admission needs to know about adapters on the device.</summary>
public interface IAdapterPages
{
    /// <summary>0 when running sequences already hold the adapter on the device; else its page count (it may need loading, or may be evicted otherwise).</summary>
    int PagesToPin(string adapterKey);

    /// <summary>Whether the adapter is on the device now.</summary>
    bool IsResident(string adapterKey);
}
