namespace SLoRA.Grid.Storage;

/// <summary>The backing store could not be reached or failed; the operation may succeed later.</summary>
public sealed class AdapterStoreException(string message, Exception? inner = null) : Exception(message, inner);
