namespace Lumina.Training.Shapes;

/// <summary>
/// The automatic prompt-adherence score for the shapes dataset. Deterministic:
/// <list type="number">
/// <item>background = per-channel median of the two-pixel border, classified to the nearest background palette colour;</item>
/// <item>foreground = pixels farther than <see cref="ForegroundThreshold"/> (RGB distance) from that median, and the
/// shape = the largest 4-connected foreground region (at least <see cref="MinimumArea"/> of the image);</item>
/// <item>colour = per-channel median of the region's core (its half farthest from the background), nearest shape
/// palette colour; the region is then taken again at the half-way contour between background and that colour, so a
/// soft-edged shape keeps its area;</item>
/// <item>position = the centroid's region: centre when both offsets from the image centre are under 1/8 of the side,
/// else left/right or top/bottom by the larger offset;</item>
/// <item>the half-way mask is cleaned by a 3×3 majority vote (drops single noisy pixels that would stretch the box);</item>
/// <item>shape = fill ratio of the region's bounding box: ≥ 0.8 with filled box corners square (1.0), &lt; 0.6 triangle (0.5), and in between a
/// circle (π/4 ≈ 0.785) unless the centroid sits clearly below the box centre, as an upward triangle's does.</item>
/// </list>
/// </summary>
public static class PromptAdherenceAnalyser
{
    /// <summary>RGB distance from the background beyond which a pixel is foreground.</summary>
    public const double ForegroundThreshold = 60;

    /// <summary>Smallest region, as a fraction of the image, that counts as a shape.</summary>
    public const double MinimumArea = 0.01;

    /// <summary>Fill ratio at or above which the shape is a square, when at least half of the four 2×2 box corners are filled too.</summary>
    public const double SquareFill = 0.8;

    /// <summary>Fill ratio below which the shape is a triangle (an ideal one fills 0.5, a disc π/4 ≈ 0.785).</summary>
    public const double TriangleFill = 0.6;

    /// <summary>
    /// Between <see cref="TriangleFill"/> and <see cref="SquareFill"/>: a centroid this far (fraction of the box height)
    /// below the box centre makes a triangle (ideal 1/6), otherwise a circle (0).
    /// </summary>
    public const double TriangleDrop = 0.07;

    /// <summary>Analyses one image.</summary>
    public static ShapeAnalysis Analyse(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (w, h, px) = (image.Width, image.Height, image.Pixels);
        if (w < 8 || h < 8) throw new ArgumentException($"The image is too small to analyse ({w}×{h}); use at least 8×8.", nameof(image));

        // 1. Background from the border.
        var border = new List<int>();
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                if (x < 2 || y < 2 || x >= w - 2 || y >= h - 2) border.Add((y * w + x) * 3);
        var (br, bg, bb) = (Median(border, px, 0), Median(border, px, 1), Median(border, px, 2));
        var background = ShapePalette.Nearest(ShapePalette.BackgroundColors, br, bg, bb);

        // 2. Foreground: pixels clearly off the background; the shape is the largest 4-connected region.
        var region = LargestRegion(ForegroundMask(px, w * h, br, bg, bb, ForegroundThreshold), w, h);
        if (region.Count < MinimumArea * w * h)
            return new ShapeAnalysis(background, false, null, null, null, 0, region.Count, double.NaN, double.NaN);

        // 3. Colour from the core of the region (its pixels farthest from the background, so soft edges that blend
        //    into the background do not pull the median), then the region again at the half-way contour between the
        //    background and that colour, which keeps a blurred shape's area and outline.
        var distances = region.Select(i => Distance(px, i, br, bg, bb)).ToArray();
        var cut = distances.OrderBy(d => d).ElementAt(distances.Length / 2);
        var core = region.Where((_, k) => distances[k] >= cut).Select(i => i * 3).ToList();
        var (cr, cg, cb) = (Median(core, px, 0), Median(core, px, 1), Median(core, px, 2));
        var color = ShapePalette.Nearest(ShapePalette.ShapeColors, cr, cg, cb);
        var contrast = Math.Sqrt((cr - br) * (cr - br) + (cg - bg) * (cg - bg) + (cb - bb) * (cb - bb));
        var halfway = LargestRegion(Majority(ForegroundMask(px, w * h, br, bg, bb, Math.Max(contrast / 2, ForegroundThreshold / 2)), w, h), w, h);
        if (halfway.Count >= MinimumArea * w * h) region = halfway;

        // 4. Position from the centroid (pixel centres).
        double sx = 0, sy = 0;
        int minX = w, maxX = -1, minY = h, maxY = -1;
        foreach (var i in region)
        {
            int x = i % w, y = i / w;
            sx += x + 0.5;
            sy += y + 0.5;
            minX = Math.Min(minX, x); maxX = Math.Max(maxX, x);
            minY = Math.Min(minY, y); maxY = Math.Max(maxY, y);
        }
        var (cx, cy) = (sx / region.Count, sy / region.Count);
        var (dx, dy) = ((cx - w / 2.0) / w, (cy - h / 2.0) / h);
        ShapePosition position = Math.Abs(dx) < 0.125 && Math.Abs(dy) < 0.125 ? ShapePosition.Center
            : Math.Abs(dx) >= Math.Abs(dy) ? (dx < 0 ? ShapePosition.Left : ShapePosition.Right)
            : (dy < 0 ? ShapePosition.Top : ShapePosition.Bottom);

        // 5. Shape from the bounding-box fill ratio (a square also needs its box corners filled, which a disc never has);
        //    in the band where a blunted triangle and a circle overlap, the
        //    vertical asymmetry decides (an upward triangle's centroid sits h/6 below its box centre, a circle's on it).
        var fill = region.Count / (double)((maxX - minX + 1) * (maxY - minY + 1));
        var drop = (cy - (minY + maxY + 1) / 2.0) / (maxY - minY + 1);
        var inRegion = new HashSet<int>(region);
        var corners = 0;
        foreach (var (x0, y0) in new[] { (minX, minY), (maxX - 1, minY), (minX, maxY - 1), (maxX - 1, maxY - 1) })
            for (var y = y0; y < y0 + 2; y++)
                for (var x = x0; x < x0 + 2; x++)
                    if (inRegion.Contains(y * w + x)) corners++;
        var shape = fill >= SquareFill && corners >= 8 ? ShapeKind.Square
            : fill < TriangleFill ? ShapeKind.Triangle
            : drop >= TriangleDrop ? ShapeKind.Triangle
            : ShapeKind.Circle;
        return new ShapeAnalysis(background, true, color, position, shape, fill, region.Count, cx, cy);
    }

    /// <summary>Analyses <paramref name="image"/> and compares it with the scene its prompt described.</summary>
    public static ShapeAdherence Score(ShapeScene expected, RgbImage image) => Analyse(image).Against(expected);

    private static bool[] Majority(bool[] mask, int w, int h)
    {
        var result = new bool[mask.Length];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                var votes = 0;
                for (var yy = Math.Max(0, y - 1); yy <= Math.Min(h - 1, y + 1); yy++)
                    for (var xx = Math.Max(0, x - 1); xx <= Math.Min(w - 1, x + 1); xx++)
                        if (mask[yy * w + xx]) votes++;
                result[y * w + x] = votes >= 5;
            }
        }
        return result;
    }

    private static bool[] ForegroundMask(byte[] px, int count, double br, double bg, double bb, double threshold)
    {
        var mask = new bool[count];
        for (var i = 0; i < count; i++) mask[i] = Distance(px, i, br, bg, bb) > threshold;
        return mask;
    }

    private static double Distance(byte[] px, int i, double br, double bg, double bb)
    {
        double dr = px[i * 3] - br, dg = px[i * 3 + 1] - bg, db = px[i * 3 + 2] - bb;
        return Math.Sqrt(dr * dr + dg * dg + db * db);
    }

    private static double Median(List<int> offsets, byte[] px, int channel)
    {
        var values = new byte[offsets.Count];
        for (var i = 0; i < values.Length; i++) values[i] = px[offsets[i] + channel];
        Array.Sort(values);
        var n = values.Length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
    }

    private static List<int> LargestRegion(bool[] mask, int w, int h)
    {
        var seen = new bool[mask.Length];
        var best = new List<int>();
        var queue = new Queue<int>();
        for (var start = 0; start < mask.Length; start++)
        {
            if (!mask[start] || seen[start]) continue;
            var current = new List<int>();
            seen[start] = true;
            queue.Enqueue(start);
            while (queue.Count > 0)
            {
                var i = queue.Dequeue();
                current.Add(i);
                int x = i % w, y = i / w;
                if (x > 0) Visit(i - 1);
                if (x < w - 1) Visit(i + 1);
                if (y > 0) Visit(i - w);
                if (y < h - 1) Visit(i + w);
            }
            if (current.Count > best.Count) best = current;
        }
        return best;

        void Visit(int j)
        {
            if (!mask[j] || seen[j]) return;
            seen[j] = true;
            queue.Enqueue(j);
        }
    }
}
