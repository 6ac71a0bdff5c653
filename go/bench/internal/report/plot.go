package report

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Series is one line of a chart: y over x (batch sizes).
type Series struct {
	Name string
	X, Y []float64
	// Dashed draws the line dashed (used for reference lines such as a baseline).
	Dashed bool
}

// Panel is one chart of a figure.
type Panel struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	Series                []Series
	// Bars, when set, draws a bar chart (one bar per entry) instead of Series.
	Bars []Bar
}

// Bar is one bar of a bar chart.
type Bar struct {
	Name  string
	Value float64
}

var palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
	color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff},
}

// colorFor gives each series name the same color in every panel of a figure.
func colorFor(names map[string]int, name string) color.Color {
	i, ok := names[name]
	if !ok {
		i = len(names)
		names[name] = i
	}
	return palette[i%len(palette)]
}

// WritePNG draws the panels side by side into one PNG file.
func WritePNG(path string, panels []Panel, panelWidth, height vg.Length) error {
	if len(panels) == 0 {
		return fmt.Errorf("report: no panels for %s", path)
	}
	names := map[string]int{}
	plots := make([][]*plot.Plot, 1)
	for _, pn := range panels {
		p, err := makePlot(pn, names)
		if err != nil {
			return fmt.Errorf("report: %s: %w", path, err)
		}
		plots[0] = append(plots[0], p)
	}
	width := panelWidth * vg.Length(len(panels))
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(110))
	dc := draw.New(img)
	t := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Millimeter * 4, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	// White background: a transparent PNG is unreadable on dark viewers.
	dc.SetColor(color.White)
	var bg vg.Path
	bg.Move(vg.Point{})
	bg.Line(vg.Point{X: width})
	bg.Line(vg.Point{X: width, Y: height})
	bg.Line(vg.Point{Y: height})
	bg.Close()
	dc.Fill(bg)
	canvases := plot.Align(plots, t, dc)
	for j, p := range plots[0] {
		p.Draw(canvases[0][j])
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func makePlot(pn Panel, names map[string]int) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.Title
	p.X.Label.Text = pn.XLabel
	p.Y.Label.Text = pn.YLabel
	if len(pn.Bars) > 0 {
		return barPlot(p, pn, names)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	xs := map[float64]bool{}
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, s := range pn.Series {
		var pts plotter.XYs
		for i := range s.X {
			if i >= len(s.Y) || !finitePositive(s.X[i], pn.LogX) || !finitePositive(s.Y[i], pn.LogY) {
				continue
			}
			pts = append(pts, plotter.XY{X: s.X[i], Y: s.Y[i]})
			xs[s.X[i]] = true
			ymin = math.Min(ymin, s.Y[i])
			ymax = math.Max(ymax, s.Y[i])
		}
		if len(pts) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		c := colorFor(names, s.Name)
		line.Color = c
		line.Width = vg.Points(1.5)
		points.Color = c
		points.Shape = draw.CircleGlyph{}
		points.Radius = vg.Points(2.5)
		if s.Dashed {
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(line, points)
		p.Legend.Add(s.Name, line, points)
	}
	if pn.LogX {
		p.X.Scale = plot.LogScale{}
	}
	var ticks []plot.Tick
	var keys []float64
	for x := range xs {
		keys = append(keys, x)
	}
	sort.Float64s(keys)
	for _, x := range keys {
		ticks = append(ticks, plot.Tick{Value: x, Label: strconv.FormatFloat(x, 'g', -1, 64)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	if pn.LogY && !math.IsInf(ymin, 0) {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Min = ymin / 1.5
		p.Y.Max = ymax * 12 // room for the legend above the lines
	} else if !math.IsInf(ymin, 0) {
		p.Y.Min = 0
		p.Y.Max = ymax * 1.35
	}
	if len(keys) > 0 {
		if pn.LogX {
			p.X.Min, p.X.Max = keys[0]/1.3, keys[len(keys)-1]*1.3
		}
	}
	return p, nil
}

func finitePositive(v float64, log bool) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	return !log || v > 0
}

func barPlot(p *plot.Plot, pn Panel, names map[string]int) (*plot.Plot, error) {
	w := vg.Points(28)
	ymax := 0.0
	var labels []string
	for i, b := range pn.Bars {
		v := b.Value
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			v = 0
		}
		bars, err := plotter.NewBarChart(plotter.Values{v}, w)
		if err != nil {
			return nil, err
		}
		bars.Color = colorFor(names, b.Name)
		bars.LineStyle.Width = 0
		bars.XMin = float64(i)
		p.Add(bars)
		labels = append(labels, b.Name)
		ymax = math.Max(ymax, v)
		if lbls, err := plotter.NewLabels(plotter.XYLabels{XYs: []plotter.XY{{X: float64(i), Y: v}}, Labels: []string{barLabel(v)}}); err == nil {
			lbls.Offset = vg.Point{X: -vg.Points(8), Y: vg.Points(2)}
			p.Add(lbls)
		}
	}
	p.NominalX(labels...)
	p.X.Tick.Label.Rotation = 0.35
	p.X.Tick.Label.XAlign = draw.XRight
	p.Y.Min = 0
	p.Y.Max = ymax * 1.2
	if ymax == 0 {
		p.Y.Max = 1
	}
	return p, nil
}

func barLabel(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
