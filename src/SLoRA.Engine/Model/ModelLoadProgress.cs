namespace SLoRA.Engine.Model;

/// <summary>How far <see cref="ModelWeights.Load"/> has got; bytes are those read from the checkpoint files.</summary>
/// <param name="TensorsDone">Tensors read so far.</param>
/// <param name="TensorsTotal">Tensors to read.</param>
/// <param name="BytesDone">Checkpoint bytes read so far.</param>
/// <param name="BytesTotal">Checkpoint bytes to read.</param>
public sealed record ModelLoadProgress(int TensorsDone, int TensorsTotal, long BytesDone, long BytesTotal);
