using System.Globalization;
using System.Text;

namespace SLoRA.Bench;

/// <summary>A small hand-written SVG line chart (log2 x axis), so the benchmark needs no plotting package.</summary>
public static class Svg
{
    public static string LineChart(string title, string xLabel, string yLabel, IReadOnlyList<(string Name, IReadOnlyList<(double X, double Y)> Points)> series)
    {
        const int width = 760, height = 420, left = 70, right = 270, top = 40, bottom = 50;
        string[] colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
        var all = series.SelectMany(s => s.Points).ToList();
        double xMin = Math.Log2(all.Min(p => p.X)), xMax = Math.Log2(all.Max(p => p.X));
        if (xMax <= xMin) xMax = xMin + 1;
        double yMax = all.Max(p => p.Y) * 1.1;
        if (yMax <= 0) yMax = 1;
        double X(double x) => left + (Math.Log2(x) - xMin) / (xMax - xMin) * (width - left - right);
        double Y(double y) => height - bottom - y / yMax * (height - top - bottom);
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append(c, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n<text x=\"{width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{title}</text>\n");
        sb.Append(c, $"<line x1=\"{left}\" y1=\"{height - bottom}\" x2=\"{width - right}\" y2=\"{height - bottom}\" stroke=\"black\"/>\n");
        sb.Append(c, $"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{height - bottom}\" stroke=\"black\"/>\n");
        foreach (double x in all.Select(p => p.X).Distinct().Order())
            sb.Append(c, $"<text x=\"{X(x):F1}\" y=\"{height - bottom + 16}\" text-anchor=\"middle\">{x:G4}</text>\n");
        for (int i = 0; i <= 5; i++)
        {
            double y = yMax * i / 5;
            sb.Append(c, $"<line x1=\"{left}\" y1=\"{Y(y):F1}\" x2=\"{width - right}\" y2=\"{Y(y):F1}\" stroke=\"#ddd\"/><text x=\"{left - 6}\" y=\"{Y(y) + 4:F1}\" text-anchor=\"end\">{(yMax >= 100 ? y.ToString("N0", c) : y.ToString("G3", c))}</text>\n");
        }
        sb.Append(c, $"<text x=\"{(left + width - right) / 2}\" y=\"{height - 12}\" text-anchor=\"middle\">{xLabel}</text>\n");
        sb.Append(c, $"<text transform=\"translate(18 {(top + height - bottom) / 2}) rotate(-90)\" text-anchor=\"middle\">{yLabel}</text>\n");
        for (int s = 0; s < series.Count; s++)
        {
            string color = colors[s % colors.Length];
            var pts = series[s].Points.OrderBy(p => p.X).Select(p => string.Create(c, $"{X(p.X):F1},{Y(p.Y):F1}"));
            sb.Append(c, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(' ', pts)}\"/>\n");
            foreach (var p in series[s].Points)
                sb.Append(c, $"<circle cx=\"{X(p.X):F1}\" cy=\"{Y(p.Y):F1}\" r=\"3\" fill=\"{color}\"/>\n");
            sb.Append(c, $"<rect x=\"{width - right + 12}\" y=\"{top + 18 * s}\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"{width - right + 30}\" y=\"{top + 18 * s + 10}\">{series[s].Name}</text>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();
    }
}
