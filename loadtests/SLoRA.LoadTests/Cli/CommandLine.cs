using System.Globalization;

namespace SLoRA.LoadTests.Cli;

/// <summary>"command --key value …" with every key checked against the ones a command knows.</summary>
public sealed class CommandLine
{
    private readonly Dictionary<string, string> _values;

    private CommandLine(string command, Dictionary<string, string> values)
    {
        Command = command;
        _values = values;
    }

    /// <summary>The first argument.</summary>
    public string Command { get; }

    /// <summary>Parses <paramref name="args"/>; throws <see cref="FormatException"/> on an unknown or valueless option.</summary>
    public static CommandLine Parse(string[] args, IReadOnlySet<string> known)
    {
        if (args.Length == 0)
            throw new FormatException("no command given.");
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 1; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                throw new FormatException($"expected an option (--name value), got '{args[i]}'.");
            string key = args[i][2..];
            if (!known.Contains(key))
                throw new FormatException($"unknown option --{key}.");
            if (i + 1 >= args.Length)
                throw new FormatException($"--{key} needs a value.");
            values[key] = args[++i];
        }
        return new CommandLine(args[0], values);
    }

    /// <summary>True when --<paramref name="key"/> was given.</summary>
    public bool Has(string key) => _values.ContainsKey(key);

    /// <summary>The value of --<paramref name="key"/>, or <paramref name="fallback"/>.</summary>
    public string Get(string key, string fallback) => _values.GetValueOrDefault(key, fallback);

    /// <summary>The value of --<paramref name="key"/> parsed by <paramref name="parse"/>, or <paramref name="fallback"/>.</summary>
    public T Get<T>(string key, T fallback, Func<string, T> parse)
    {
        if (!_values.TryGetValue(key, out var text))
            return fallback;
        try
        {
            return parse(text);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new FormatException($"--{key} {text}: {e.Message}", e);
        }
    }

    /// <summary>A number in invariant culture.</summary>
    public double GetDouble(string key, double fallback) => Get(key, fallback, s => double.Parse(s, CultureInfo.InvariantCulture));

    /// <summary>An integer.</summary>
    public int GetInt(string key, int fallback) => Get(key, fallback, s => int.Parse(s, CultureInfo.InvariantCulture));
}
