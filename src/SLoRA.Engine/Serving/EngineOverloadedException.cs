namespace SLoRA.Engine.Serving;

/// <summary>The engine's queue is full; retry later (HTTP 429/503).</summary>
public sealed class EngineOverloadedException(string message) : Exception(message);
