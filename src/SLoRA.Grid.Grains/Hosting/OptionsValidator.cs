using Microsoft.Extensions.Options;

namespace SLoRA.Grid.Hosting;

/// <summary>Validates an options class through its own Validate method, so that a bad setting stops the silo at start with its message.</summary>
internal sealed class OptionsValidator<T>(Action<T> validate) : IValidateOptions<T> where T : class
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        try
        {
            validate(options);
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException e)
        {
            return ValidateOptionsResult.Fail($"{typeof(T).Name}: {e.Message}");
        }
    }
}
