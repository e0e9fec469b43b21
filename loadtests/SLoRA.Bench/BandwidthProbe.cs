using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;

namespace SLoRA.Bench;

/// <summary>The device's memory bandwidth, measured as METHOD.md asks: a large device-to-device copy, bytes read plus written, median of repeats.</summary>
internal static class BandwidthProbe
{
    public static double MeasureBytesPerSecond(Accelerator accelerator, long bytes)
    {
        long n = bytes / 4;
        using var a = accelerator.Allocate1D<float>(n);
        using var b = accelerator.Allocate1D<float>(n);
        a.MemSetToZero();
        b.MemSetToZero();
        var stream = accelerator.DefaultStream;
        var times = new List<double>();
        for (int i = 0; i < 12; i++)
        {
            stream.Synchronize();
            var clock = Stopwatch.StartNew();
            b.View.CopyFrom(stream, a.View);
            stream.Synchronize();
            if (i >= 2)
                times.Add(clock.Elapsed.TotalSeconds);
        }
        return 2.0 * n * 4 / Median(times);
    }

    public static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
