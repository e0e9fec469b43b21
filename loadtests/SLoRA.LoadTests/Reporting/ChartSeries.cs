namespace SLoRA.LoadTests.Reporting;

/// <summary>One line of a chart.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="Color">An SVG colour.</param>
/// <param name="Points">The points, in x order.</param>
/// <param name="Step">Draw as a staircase (a CDF) rather than straight segments.</param>
/// <param name="Dashed">Draw dashed.</param>
public sealed record ChartSeries(string Name, string Color, IReadOnlyList<(double X, double Y)> Points, bool Step = false, bool Dashed = false);
