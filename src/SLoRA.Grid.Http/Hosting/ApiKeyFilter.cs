using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using SLoRA.Grid.Http.Errors;

namespace SLoRA.Grid.Http.Hosting;

/// <summary>
/// When API keys are configured, the API endpoints need one, as "Authorization: Bearer KEY" (what
/// OpenAI clients send) or "X-Api-Key: KEY"; otherwise a 401 in OpenAI's shape.
/// </summary>
internal sealed class ApiKeyFilter(IOptions<GridHttpOptions> options) : IEndpointFilter
{
    private readonly byte[][] _keys = [.. options.Value.ApiKeys.Select(Encoding.UTF8.GetBytes)];

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (_keys.Length == 0 || IsAllowed(context.HttpContext.Request))
            return next(context);
        return ValueTask.FromResult<object?>(new ApiErrorResult(new ApiException(StatusCodes.Status401Unauthorized,
            "a valid API key is required: send 'Authorization: Bearer <key>'.", "authentication_error", null, "invalid_api_key")));
    }

    private bool IsAllowed(HttpRequest request)
    {
        string? key = request.Headers.Authorization.ToString() is { } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? auth["Bearer ".Length..].Trim()
            : request.Headers["X-Api-Key"].ToString();
        if (string.IsNullOrEmpty(key))
            return false;
        var given = Encoding.UTF8.GetBytes(key);
        bool match = false;
        foreach (var k in _keys)
            match |= CryptographicOperations.FixedTimeEquals(k, given);
        return match;
    }
}
