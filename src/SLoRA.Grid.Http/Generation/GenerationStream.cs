using System.Diagnostics;
using Orleans.Runtime;
using SLoRA.Grid.Client;
using SLoRA.Grid.Errors;
using SLoRA.Grid.Generation;
using SLoRA.Grid.Http.Errors;
using SLoRA.Grid.Http.Metrics;

namespace SLoRA.Grid.Http.Generation;

/// <summary>
/// One generation on the grid, opened far enough to know it was accepted: <see cref="StartAsync"/>
/// waits for the first chunk, so that an unknown adapter, a bad parameter or an overload becomes
/// an HTTP status before any response byte is written. It counts tokens for usage and records
/// the request's metrics when disposed. Cancelling the token given to <see cref="StartAsync"/>
/// (the request's RequestAborted) cancels the grain call and frees the request's pages.
/// </summary>
public sealed class GenerationStream : IAsyncDisposable
{
    private readonly SLoRAGridClient _grid;
    private readonly IAsyncEnumerator<TokenChunk> _tokens;
    private readonly GridHttpMetrics _metrics;
    private readonly string _endpoint;
    private readonly Stopwatch _clock;
    private TokenChunk? _pending;
    private int _status = StatusCodes.Status200OK;
    private bool _disposed;

    private GenerationStream(SLoRAGridClient grid, ModelTarget target, IAsyncEnumerator<TokenChunk> tokens, GridHttpMetrics metrics, string endpoint, Stopwatch clock)
    {
        _grid = grid;
        Target = target;
        _tokens = tokens;
        _metrics = metrics;
        _endpoint = endpoint;
        _clock = clock;
    }

    /// <summary>What is generating.</summary>
    public ModelTarget Target { get; }

    /// <summary>Tokens in the prompt, as the silo counted them.</summary>
    public int PromptTokens { get; private set; }

    /// <summary>Tokens generated so far.</summary>
    public int CompletionTokens { get; private set; }

    /// <summary>Why the generation ended, once it has.</summary>
    public FinishReason? FinishReason { get; private set; }

    /// <summary>
    /// Starts <paramref name="request"/> on <paramref name="target"/> and waits for its first
    /// chunk. Grid errors come out as <see cref="ApiException"/> (with <paramref name="paramNames"/>
    /// renaming the grid's field names to the endpoint's).
    /// </summary>
    public static async Task<GenerationStream> StartAsync(SLoRAGridClient grid, ModelTarget target, GenerateRequest request, GridHttpMetrics metrics,
        string endpoint, IReadOnlyDictionary<string, string>? paramNames, TimeSpan retryAfter, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        metrics.Started();
        for (int attempt = 1; ; attempt++)
        {
            IAsyncEnumerator<TokenChunk>? tokens = null;
            try
            {
                var source = target.AdapterId is { } id ? grid.GenerateAsync(id, request, cancellationToken) : grid.GenerateBaseAsync(request, cancellationToken);
                tokens = source.GetAsyncEnumerator(cancellationToken);
                var stream = new GenerationStream(grid, target, tokens, metrics, endpoint, clock);
                if (await tokens.MoveNextAsync())
                    stream.Accept(tokens.Current);
                return stream;
            }
            catch (Exception e)
            {
                if (tokens is not null)
                    await DisposeQuietlyAsync(tokens);
                if (e is EnumerationAbortedException)
                {
                    e = await ExplainAbortAsync(grid, target, e);
                    if (e is EnumerationAbortedException && attempt < MaxAttempts)
                    {
                        // The grain left (unloaded, migrated, or failed to load and deactivated) before
                        // its first token: nothing was generated, so the request goes to the next activation.
                        await Task.Delay(RetryDelay * attempt, cancellationToken);
                        continue;
                    }
                }
                var error = e is OperationCanceledException ? null : GridErrorTranslation.Translate(e, target.Model, paramNames, retryAfter);
                int status = error?.Status ?? (e is OperationCanceledException ? 499 : StatusCodes.Status500InternalServerError);
                metrics.Finished(target.Model, endpoint, status, clock.Elapsed, 0, 0);
                if (error is null)
                    throw;
                throw error;
            }
        }
    }

    /// <summary>Whether the target still exists (the base model always does).</summary>
    private static async Task<bool> ExistsAsync(SLoRAGridClient grid, ModelTarget target) =>
        target.AdapterId is not { } id || await grid.GetAdapterAsync(id) is not null;

    /// <summary>
    /// An adapter grain's stream ended because the grain left: when the adapter was deleted, say
    /// so (404); otherwise it is a transient fault (503).
    /// </summary>
    private static async Task<Exception> ExplainAbortAsync(SLoRAGridClient grid, ModelTarget target, Exception aborted)
    {
        try
        {
            return await ExistsAsync(grid, target) ? aborted : new AdapterNotFoundException(target.AdapterId!);
        }
        catch (Exception)
        {
            return aborted;
        }
    }

    /// <summary>How many times a request is sent when its grain leaves before the first token.</summary>
    private const int MaxAttempts = 4;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(50);

    private void Accept(TokenChunk chunk)
    {
        _pending = chunk;
        if (chunk.PromptTokens is { } prompt)
            PromptTokens = prompt;
    }

    /// <summary>
    /// The chunks, the first one included. A chunk that ends the generation abnormally (cancelled,
    /// deadline, engine error) is returned like the others; callers look at its finish reason.
    /// </summary>
    public async IAsyncEnumerable<TokenChunk> ReadAllAsync()
    {
        while (_pending is { } chunk)
        {
            _pending = null;
            if (chunk.TokenId >= 0)
            {
                if (CompletionTokens++ == 0)
                    _metrics.FirstToken(Target.Model, _clock.Elapsed);
            }
            FinishReason = chunk.FinishReason ?? FinishReason;
            yield return chunk;
            bool more;
            try
            {
                more = await _tokens.MoveNextAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (e is EnumerationAbortedException)
                    e = await ExplainAbortAsync(_grid, Target, e);
                var error = GridErrorTranslation.Translate(e, Target.Model) ??
                    new ApiException(StatusCodes.Status500InternalServerError, $"generation failed: {e.Message}", "server_error", null, "generation_failed");
                _status = error.Status;
                throw error;
            }
            if (more)
                Accept(_tokens.Current);
        }
    }

    /// <summary>Records the status to report in metrics (e.g. 499 when the client left).</summary>
    public void SetStatus(int status) => _status = status;

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        await DisposeQuietlyAsync(_tokens);
        int status = _status;
        if (FinishReason is null && status == StatusCodes.Status200OK)
            status = 499; // the client left before the end
        else if (FinishReason is Grid.Generation.FinishReason.Error)
            status = StatusCodes.Status500InternalServerError;
        _metrics.Finished(Target.Model, _endpoint, status, _clock.Elapsed, PromptTokens, CompletionTokens);
    }

    private static async ValueTask DisposeQuietlyAsync(IAsyncEnumerator<TokenChunk> tokens)
    {
        try
        {
            // Disposing an unfinished grain stream cancels the request on its silo.
            await tokens.DisposeAsync();
        }
        catch (Exception)
        {
            // The silo may be gone or the call already cancelled; nothing is left to free here.
        }
    }
}
