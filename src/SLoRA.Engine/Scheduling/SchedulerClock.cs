namespace SLoRA.Engine.Scheduling;

/// <summary>
/// The time facts a step is scheduled with, handed in by the engine so that the scheduler owns
/// no clock: the current time and the measured cost of prefilling one token.
/// </summary>
/// <param name="Now">Seconds on the engine's clock.</param>
/// <param name="PrefillSecondsPerToken">Recent cost of one prompt token, for deadline estimates.</param>
public readonly record struct SchedulerClock(double Now, double PrefillSecondsPerToken);
