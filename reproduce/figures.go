package reproduce

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figures draws the paper's figures as SVG, keyed by file name, from the
// tables of out (a fresh run or CSVs read back). A figure whose tables are
// missing is left out; a configuration missing from one is left out of it.
func Figures(out *Output) (map[string][]byte, error) {
	x := out.Experiment
	figs := map[string][]byte{}
	add := func(name string, b []byte, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if b != nil {
			figs[name] = b
		}
		return nil
	}
	units := x.Units
	if len(units) >= 2 {
		for i, u := range units[:2] {
			name := fmt.Sprintf("fig6%c-util-%s.svg", 'a'+i, u)
			title := fmt.Sprintf("Figure 6%c: %s array utilization", 'a'+i, u)
			b, err := x.groupedFigure(out.Tables, title, u+" utilization (fraction of PE·cycles)", false,
				func(t *Table, c AttnConfig, w, s string) (float64, bool) {
					return t.Get("util_"+u, w, s)
				})
			if err := add(name, b, err); err != nil {
				return nil, err
			}
		}
	}
	if b, err := x.einsumFigure(out.Tables); add("fig7-bert-einsum-activity.svg", b, err) != nil {
		return nil, err
	}
	norm := x.Config(x.HeadlineSpec.NormaliseTo)
	for _, f := range []struct {
		name, title, ylabel, col string
		e2e, inverse             bool
	}{
		{"fig8-attention-speedup.svg", "Figure 8: attention speedup over " + norm.Label, "speedup over " + norm.Label + " (×)", "latency", false, true},
		{"fig9-attention-energy.svg", "Figure 9: attention energy relative to " + norm.Label, "energy / " + norm.Label + "'s energy", "energy", false, false},
		{"fig10-end-to-end-speedup.svg", "Figure 10: end-to-end speedup over " + norm.Label, "speedup over " + norm.Label + " (×)", "latency", true, true},
		{"fig11-end-to-end-energy.svg", "Figure 11: end-to-end energy relative to " + norm.Label, "energy / " + norm.Label + "'s energy", "energy", true, false},
	} {
		value := func(c AttnConfig, w, s string) (float64, bool) {
			v, ok := out.Tables[c.CSV].Get(f.col, w, s)
			if f.e2e {
				p := x.Platform(c.End2End)
				if p == nil || out.Tables[p.CSV] == nil {
					return 0, false
				}
				l, ok2 := out.Tables[p.CSV].Get(f.col, w, s)
				v, ok = v+l, ok && ok2
			}
			return v, ok
		}
		if out.Tables[norm.CSV] == nil {
			continue
		}
		b, err := x.groupedFigure(out.Tables, f.title, f.ylabel, true, func(t *Table, c AttnConfig, w, s string) (float64, bool) {
			v, ok := value(c, w, s)
			n, ok2 := value(*norm, w, s)
			if !ok || !ok2 || v == 0 {
				return 0, false
			}
			if f.inverse {
				return n / v, true
			}
			return v / n, true
		})
		if err := add(f.name, b, err); err != nil {
			return nil, err
		}
	}
	if x.Pareto != nil && out.Tables[x.Pareto.CSV] != nil {
		b, err := x.paretoFigure(out.Tables[x.Pareto.CSV])
		if err := add("fig12-area-vs-latency.svg", b, err); err != nil {
			return nil, err
		}
	}
	return figs, nil
}

var palette = []color.Color{
	color.RGBA{0x4c, 0x72, 0xb0, 0xff}, color.RGBA{0xdd, 0x84, 0x52, 0xff}, color.RGBA{0x55, 0xa8, 0x68, 0xff},
	color.RGBA{0xc4, 0x4e, 0x52, 0xff}, color.RGBA{0x81, 0x72, 0xb3, 0xff}, color.RGBA{0x93, 0x78, 0x60, 0xff},
	color.RGBA{0xda, 0x8b, 0xc3, 0xff}, color.RGBA{0x8c, 0x8c, 0x8c, 0xff},
}

// page lays out panels in a grid under a title and a legend strip, so that
// the legend never covers data.
type page struct {
	title   string
	legend  plot.Legend // its text style
	entries []legendEntry
	rows    [][]*plot.Plot
	w, h    vg.Length
}

type legendEntry struct {
	text   string
	thumbs []plot.Thumbnailer
}

func newPage(title string, w, h vg.Length) *page {
	return &page{title: title, legend: plot.NewLegend(), w: w, h: h}
}

func (pg *page) add(text string, thumbs ...plot.Thumbnailer) {
	pg.entries = append(pg.entries, legendEntry{text, thumbs})
}

func (pg *page) svg() ([]byte, error) {
	c := vgsvg.NewWith(vgsvg.UseWH(pg.w, pg.h), vgsvg.EmbedFonts(true)) // embedded: text renders as measured, whatever fonts the viewer has
	dc := draw.New(c)
	const titleH, legendH = vg.Length(28), vg.Length(22)
	// Title.
	sty := pg.legend.TextStyle
	sty.Font.Size = 13
	sty.YAlign = draw.YTop
	dc.FillText(sty, vg.Point{X: pg.w/2 - sty.Width(pg.title)/2, Y: pg.h - 6}, pg.title)
	// Legend in one row under the title.
	leg := draw.Crop(dc, 0, 0, 0, -titleH)
	leg.Min.Y = leg.Max.Y - legendH
	pg.drawLegendRow(leg)
	body := draw.Crop(dc, 0, 0, 0, -(titleH + legendH))
	tiles := draw.Tiles{Rows: len(pg.rows), Cols: len(pg.rows[0]), PadX: 12, PadY: 14, PadTop: 18, PadBottom: 4, PadLeft: 4, PadRight: 8}
	canv := plot.Align(pg.rows, tiles, body)
	for i, row := range pg.rows {
		for j, p := range row {
			if p != nil {
				p.Draw(canv[i][j])
			}
		}
	}
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// drawLegendRow draws the legend's entries side by side, centred.
func (pg *page) drawLegendRow(c draw.Canvas) {
	sty := pg.legend.TextStyle
	const thumb, gap = vg.Length(12), vg.Length(22)
	// Renderers set the text a little wider than the font metrics say;
	// the slack keeps neighbouring entries apart.
	width := func(s string) vg.Length { return sty.Width(s) * 1.15 }
	total := vg.Length(0)
	for _, e := range pg.entries {
		total += thumb + 4 + width(e.text) + gap
	}
	x := (c.Max.X+c.Min.X)/2 - total/2
	y := (c.Max.Y + c.Min.Y) / 2
	for _, e := range pg.entries {
		r := vg.Rectangle{Min: vg.Point{X: x, Y: y - thumb/2}, Max: vg.Point{X: x + thumb, Y: y + thumb/2}}
		for _, t := range e.thumbs {
			t.Thumbnail(&draw.Canvas{Canvas: c.Canvas, Rectangle: r})
		}
		st := sty
		st.YAlign = draw.YCenter
		c.FillText(st, vg.Point{X: x + thumb + 4, Y: y}, e.text)
		x += thumb + 4 + width(e.text) + gap
	}
}

func newPanel(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Title.TextStyle.Font.Size = 11
	p.Add(plotter.NewGrid())
	return p
}

// groupedFigure draws one panel per workload: bars grouped by sequence
// length, one bar per configuration (the paper's Figures 6 and 8–11).
func (x *Experiment) groupedFigure(tables map[string]*Table, title, ylabel string, refLine bool,
	value func(t *Table, c AttnConfig, w, s string) (float64, bool)) ([]byte, error) {
	var cfgs []AttnConfig
	for _, c := range x.Attention {
		if tables[c.CSV] != nil {
			cfgs = append(cfgs, c)
		}
	}
	if len(cfgs) == 0 {
		return nil, nil
	}
	pg := newPage(title, 11*vg.Inch, 7.5*vg.Inch)
	labels := make([]string, len(x.Seqs))
	for i, s := range x.Seqs {
		labels[i] = s.Label
	}
	const groupW = vg.Length(58)
	barW := groupW / vg.Length(len(cfgs))
	var plots []*plot.Plot
	ymax := 0.0
	for _, w := range x.Workloads {
		p := newPanel(w.Name, "sequence length (M = P)", ylabel)
		for ci, c := range cfgs {
			vals := make(plotter.Values, len(x.Seqs))
			for i, s := range x.Seqs {
				v, ok := value(tables[c.CSV], c, w.Name, s.Label)
				if !ok {
					v = 0
				}
				vals[i] = v
				ymax = math.Max(ymax, v)
			}
			bc, err := plotter.NewBarChart(vals, barW)
			if err != nil {
				return nil, err
			}
			bc.Color = palette[ci%len(palette)]
			bc.LineStyle.Width = 0
			bc.Offset = barW*vg.Length(ci) - groupW/2 + barW/2
			p.Add(bc)
			if len(plots) == 0 {
				pg.add(c.Label, bc)
			}
		}
		p.NominalX(labels...)
		plots = append(plots, p)
	}
	for _, p := range plots {
		p.Y.Min, p.Y.Max = 0, ymax*1.08
		if refLine {
			l, _ := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 1}, {X: float64(len(x.Seqs)) - 0.5, Y: 1}})
			l.Dashes = []vg.Length{4, 3}
			l.Color = color.Gray{0x60}
			p.Add(l)
		}
	}
	pg.rows = grid(plots, 2)
	return pg.svg()
}

// einsumFigure draws, for the first workload (BERT in the paper's Figure
// 7), the share of the latency each Einsum keeps the first unit (the 2D
// array) busy, stacked, per configuration with per-Einsum columns.
func (x *Experiment) einsumFigure(tables map[string]*Table) ([]byte, error) {
	w := x.Workloads[0]
	var cfgs []AttnConfig
	for _, c := range x.Attention {
		if tables[c.CSV] != nil && len(c.Columns) > 0 {
			cfgs = append(cfgs, c)
		}
	}
	if len(cfgs) == 0 {
		return nil, nil
	}
	unit := "2d"
	if len(x.Units) > 0 {
		unit = x.Units[0]
	}
	pg := newPage(fmt.Sprintf("Figure 7: %s, share of the latency each Einsum keeps the %s array busy", w.Name, unit), 11*vg.Inch, 7.5*vg.Inch)
	labels := make([]string, len(x.Seqs))
	for i, s := range x.Seqs {
		labels[i] = s.Label
	}
	colour := map[string]color.Color{}
	var plots []*plot.Plot
	for _, c := range cfgs {
		p := newPanel(c.Label, "sequence length (M = P)", "share of latency ("+unit+" busy)")
		var below *plotter.BarChart
		for _, e := range c.Columns {
			vals := make(plotter.Values, len(x.Seqs))
			for i, s := range x.Seqs {
				v, _ := tables[c.CSV].Get(e, w.Name, s.Label)
				vals[i] = v
			}
			bc, err := plotter.NewBarChart(vals, 28)
			if err != nil {
				return nil, err
			}
			col, seen := colour[e]
			if !seen {
				col = palette[len(colour)%len(palette)]
				colour[e] = col
			}
			bc.Color = col
			bc.LineStyle.Width = 0
			if below != nil {
				bc.StackOn(below)
			}
			below = bc
			p.Add(bc)
			if !seen {
				pg.add(e, bc)
			}
		}
		p.NominalX(labels...)
		p.Y.Min, p.Y.Max = 0, 1.05
		plots = append(plots, p)
	}
	pg.rows = grid(plots, 2)
	return pg.svg()
}

// paretoFigure draws area against attention latency, log-log, one line per
// workload through the PE-array sizes (the paper's Figure 12).
func (x *Experiment) paretoFigure(t *Table) ([]byte, error) {
	pg := newPage(fmt.Sprintf("Figure 12: area vs attention latency at %s tokens, PE array %s", x.Pareto.Seq.Label, peRange(x.Pareto.PEDims)), 8*vg.Inch, 6.5*vg.Inch)
	p := newPanel("", "attention latency (s, log scale)", "area (mm², log scale)")
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	for wi, w := range x.Workloads {
		var pts plotter.XYs
		var names []string
		for _, r := range t.Rows {
			if r.Keys[1] != w.Name {
				continue
			}
			lat, _ := t.Get("latency", r.Keys...)
			area, _ := t.Get("area", r.Keys...)
			pts = append(pts, plotter.XY{X: lat, Y: area / 1e6})
			names = append(names, r.Keys[2]+"²")
		}
		if len(pts) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		l.Color, s.Color = palette[wi%len(palette)], palette[wi%len(palette)]
		s.Shape = [...]draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}}[wi%4]
		p.Add(l, s)
		pg.add(w.Name, l, s)
		if wi == 0 {
			lab, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: names})
			if err != nil {
				return nil, err
			}
			for i := range lab.TextStyle {
				lab.TextStyle[i].XAlign = draw.XLeft
				lab.Offset = vg.Point{X: 5, Y: 4}
			}
			p.Add(lab)
		}
	}
	pg.rows = [][]*plot.Plot{{p}}
	return pg.svg()
}

func peRange(d []int64) string {
	if len(d) == 0 {
		return ""
	}
	a, b := strconv.FormatInt(d[0], 10), strconv.FormatInt(d[len(d)-1], 10)
	return a + "×" + a + " to " + b + "×" + b
}

// grid arranges plots in rows of n.
func grid(ps []*plot.Plot, n int) [][]*plot.Plot {
	var rows [][]*plot.Plot
	for i := 0; i < len(ps); i += n {
		row := make([]*plot.Plot, n)
		copy(row, ps[i:min(i+n, len(ps))])
		rows = append(rows, row)
	}
	return rows
}
