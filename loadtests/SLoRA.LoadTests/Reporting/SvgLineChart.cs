using System.Globalization;
using System.Security;
using System.Text;

namespace SLoRA.LoadTests.Reporting;

/// <summary>
/// A small line chart drawn as plain SVG: axes from zero with 1-2-5 ticks, a legend, optional
/// vertical markers. Enough for a report a reader opens in a browser; no plotting package.
/// </summary>
public sealed class SvgLineChart
{
    private const double MarginLeft = 64, MarginRight = 16, MarginTop = 30, MarginBottom = 44;

    /// <summary>Title above the plot area.</summary>
    public required string Title { get; init; }

    /// <summary>Label of the x axis.</summary>
    public required string XLabel { get; init; }

    /// <summary>Label of the y axis.</summary>
    public required string YLabel { get; init; }

    /// <summary>The lines.</summary>
    public IReadOnlyList<ChartSeries> Series { get; init; } = [];

    /// <summary>Dashed vertical lines at x, with a label.</summary>
    public IReadOnlyList<(double X, string Label)> Markers { get; init; } = [];

    /// <summary>Fixed top of the y axis (1 for a CDF); by default the data's maximum, rounded up.</summary>
    public double? YMax { get; init; }

    /// <summary>Draws the chart into the box at (<paramref name="left"/>, <paramref name="top"/>).</summary>
    public void Render(StringBuilder svg, double left, double top, double width, double height)
    {
        var points = Series.SelectMany(s => s.Points).ToList();
        var (xMax, xStep) = Axis(points.Select(p => p.X).DefaultIfEmpty(0).Max());
        var (yMax, yStep) = YMax is { } fixedMax ? (fixedMax, NiceStep(fixedMax)) : Axis(points.Select(p => p.Y).DefaultIfEmpty(0).Max());
        double plotLeft = left + MarginLeft, plotTop = top + MarginTop;
        double plotWidth = width - MarginLeft - MarginRight, plotHeight = height - MarginTop - MarginBottom;
        double Px(double x) => plotLeft + x / xMax * plotWidth;
        double Py(double y) => plotTop + plotHeight - Math.Min(y, yMax) / yMax * plotHeight;

        svg.Append(F($"<g font-family=\"sans-serif\" font-size=\"11\">\n"));
        svg.Append(F($"<text x=\"{left + width / 2:F1}\" y=\"{top + 18:F1}\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">{Escape(Title)}</text>\n"));
        svg.Append(F($"<rect x=\"{plotLeft:F1}\" y=\"{plotTop:F1}\" width=\"{plotWidth:F1}\" height=\"{plotHeight:F1}\" fill=\"none\" stroke=\"#888\"/>\n"));
        for (double x = 0; x <= xMax * (1 + 1e-9); x += xStep)
        {
            svg.Append(F($"<line x1=\"{Px(x):F1}\" y1=\"{plotTop:F1}\" x2=\"{Px(x):F1}\" y2=\"{plotTop + plotHeight:F1}\" stroke=\"#eee\"/>\n"));
            svg.Append(F($"<text x=\"{Px(x):F1}\" y=\"{plotTop + plotHeight + 14:F1}\" text-anchor=\"middle\">{Tick(x)}</text>\n"));
        }
        for (double y = 0; y <= yMax * (1 + 1e-9); y += yStep)
        {
            svg.Append(F($"<line x1=\"{plotLeft:F1}\" y1=\"{Py(y):F1}\" x2=\"{plotLeft + plotWidth:F1}\" y2=\"{Py(y):F1}\" stroke=\"#eee\"/>\n"));
            svg.Append(F($"<text x=\"{plotLeft - 6:F1}\" y=\"{Py(y) + 4:F1}\" text-anchor=\"end\">{Tick(y)}</text>\n"));
        }
        svg.Append(F($"<text x=\"{plotLeft + plotWidth / 2:F1}\" y=\"{top + height - 8:F1}\" text-anchor=\"middle\">{Escape(XLabel)}</text>\n"));
        svg.Append(F($"<text transform=\"translate({left + 14:F1},{plotTop + plotHeight / 2:F1}) rotate(-90)\" text-anchor=\"middle\">{Escape(YLabel)}</text>\n"));

        foreach (var (x, label) in Markers.Where(m => m.X <= xMax))
        {
            svg.Append(F($"<line x1=\"{Px(x):F1}\" y1=\"{plotTop:F1}\" x2=\"{Px(x):F1}\" y2=\"{plotTop + plotHeight:F1}\" stroke=\"#c00\" stroke-dasharray=\"4 3\"/>\n"));
            svg.Append(F($"<text x=\"{Px(x) - 4:F1}\" y=\"{plotTop + 12:F1}\" text-anchor=\"end\" fill=\"#c00\">{Escape(label)}</text>\n"));
        }
        foreach (var series in Series.Where(s => s.Points.Count > 0))
        {
            string dash = series.Dashed ? " stroke-dasharray=\"6 3\"" : "";
            svg.Append(F($"<path fill=\"none\" stroke=\"{series.Color}\" stroke-width=\"1.6\"{dash} d=\"{PathData(series, Px, Py)}\"/>\n"));
        }
        if (Series.Count > 0)
            svg.Append(F($"<rect x=\"{plotLeft + plotWidth - 156:F1}\" y=\"{plotTop + 4:F1}\" width=\"150\" height=\"{Series.Count * 15 + 6}\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n"));
        for (int i = 0; i < Series.Count; i++)
        {
            double ly = plotTop + 18 + i * 15, lx = plotLeft + plotWidth - 150;
            svg.Append(F($"<line x1=\"{lx:F1}\" y1=\"{ly - 4:F1}\" x2=\"{lx + 18:F1}\" y2=\"{ly - 4:F1}\" stroke=\"{Series[i].Color}\" stroke-width=\"2\"/>\n"));
            svg.Append(F($"<text x=\"{lx + 24:F1}\" y=\"{ly:F1}\">{Escape(Series[i].Name)}</text>\n"));
        }
        svg.Append("</g>\n");
    }

    private static string PathData(ChartSeries series, Func<double, double> px, Func<double, double> py)
    {
        var d = new StringBuilder();
        double? lastY = null;
        foreach (var (x, y) in series.Points)
        {
            if (lastY is null)
                d.Append(F($"M{px(x):F1},{py(y):F1}"));
            else if (series.Step)
                d.Append(F($" H{px(x):F1} V{py(y):F1}"));
            else
                d.Append(F($" L{px(x):F1},{py(y):F1}"));
            lastY = y;
        }
        return d.ToString();
    }

    /// <summary>An axis from 0 to the data's maximum rounded up to a 1-2-5 tick.</summary>
    private static (double Max, double Step) Axis(double dataMax)
    {
        if (!(dataMax > 0) || !double.IsFinite(dataMax))
            dataMax = 1;
        double step = NiceStep(dataMax);
        return (Math.Ceiling(dataMax / step - 1e-9) * step, step);
    }

    /// <summary>A 1, 2 or 5 times a power of ten that splits <paramref name="range"/> into about five ticks.</summary>
    public static double NiceStep(double range)
    {
        double raw = range / 5;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double norm = raw / magnitude;
        return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
    }

    private static string Tick(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string Escape(string text) => SecurityElement.Escape(text);

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
