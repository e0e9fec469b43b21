namespace SLoRA.Engine.Tokenization;

/// <summary>
/// Finds a request's stop strings in its streamed text. Text is released as soon as it cannot be
/// part of a stop string; a tail that could be the start of one is held back until the next delta
/// settles it. One per request; not thread-safe.
/// </summary>
public sealed class StopStringMatcher
{
    private readonly string[] _stopStrings;
    private string _held = "";
    private bool _stopped;

    /// <summary>Creates the matcher for the given stop strings (none is allowed: then text passes straight through).</summary>
    /// <exception cref="ArgumentException">A stop string is null or empty.</exception>
    public StopStringMatcher(IEnumerable<string> stopStrings)
    {
        ArgumentNullException.ThrowIfNull(stopStrings);
        _stopStrings = [.. stopStrings];
        if (_stopStrings.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Stop strings must be non-empty.", nameof(stopStrings));
        }
    }

    /// <summary>Whether a stop string has been found.</summary>
    public bool Stopped => _stopped;

    /// <summary>
    /// Takes the next piece of generated text. Returns the text that can be shown now and whether
    /// a stop string was completed; on a stop, only the text before it is returned and later calls
    /// return nothing.
    /// </summary>
    public (string Emit, bool Stopped) Feed(string delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (_stopped)
        {
            return ("", true);
        }

        string text = _held + delta;
        if (FindEarliestStop(text) is int stopAt)
        {
            _held = "";
            _stopped = true;
            return (text[..stopAt], true);
        }

        int holdFrom = text.Length - LongestPossibleStopStart(text);
        _held = text[holdFrom..];
        return (text[..holdFrom], false);
    }

    /// <summary>Returns the held-back text at the end of the stream (nothing after a stop).</summary>
    public string Flush()
    {
        string rest = _held;
        _held = "";
        return rest;
    }

    // The earliest match wins, as the text after it is never shown.
    private int? FindEarliestStop(string text)
    {
        int? earliest = null;
        foreach (string stop in _stopStrings)
        {
            int index = text.IndexOf(stop, StringComparison.Ordinal);
            if (index >= 0 && (earliest is null || index < earliest))
            {
                earliest = index;
            }
        }

        return earliest;
    }

    // The length of the longest suffix of text that is a proper prefix of some stop string.
    private int LongestPossibleStopStart(string text)
    {
        int longest = 0;
        foreach (string stop in _stopStrings)
        {
            for (int length = Math.Min(stop.Length - 1, text.Length); length > longest; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    longest = length;
                    break;
                }
            }
        }

        return longest;
    }
}
