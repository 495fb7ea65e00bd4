package reproduce

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"regexp"
	"strconv"
	"strings"

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
	pages, err := figurePages(out)
	if err != nil {
		return nil, err
	}
	figs := map[string][]byte{}
	for name, pg := range pages {
		b, err := pg.svg()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		figs[name] = b
	}
	return figs, nil
}

// figurePages lays the figures out without rendering them, so that a test
// can check where their text and marks land.
func figurePages(out *Output) (map[string]*page, error) {
	x := out.Experiment
	pages := map[string]*page{}
	add := func(name string, pg *page, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if pg != nil {
			pages[name] = pg
		}
		return nil
	}
	for i, u := range x.Units[:min(2, len(x.Units))] {
		name := fmt.Sprintf("fig6%c-util-%s.svg", 'a'+i, u)
		title := fmt.Sprintf("Figure 6%c: %s array utilization", 'a'+i, unitName(u))
		pg, err := x.groupedFigure(out.Tables, title, unitName(u)+" array utilization (% of PE-cycles busy)", yPercent,
			func(c AttnConfig, w, s string) (float64, bool) {
				v, ok := out.Tables[c.CSV].Get("util_"+u, w, s)
				return 100 * v, ok
			})
		if err := add(name, pg, err); err != nil {
			return nil, err
		}
	}
	pg, err := x.einsumFigure(out.Tables)
	if err := add("fig7-bert-einsum-activity.svg", pg, err); err != nil {
		return nil, err
	}
	norm := x.Config(x.HeadlineSpec.NormaliseTo)
	for _, f := range []struct {
		name, title, ylabel, col string
		e2e, inverse             bool
	}{
		{"fig8-attention-speedup.svg", "Figure 8: attention speedup over " + norm.Label, "attention speedup over " + norm.Label + " (×)", "latency", false, true},
		{"fig9-attention-energy.svg", "Figure 9: attention energy relative to " + norm.Label, "attention energy relative to " + norm.Label + " (×)", "energy", false, false},
		{"fig10-end-to-end-speedup.svg", "Figure 10: end-to-end speedup over " + norm.Label, "end-to-end speedup over " + norm.Label + " (×)", "latency", true, true},
		{"fig11-end-to-end-energy.svg", "Figure 11: end-to-end energy relative to " + norm.Label, "end-to-end energy relative to " + norm.Label + " (×)", "energy", true, false},
	} {
		if out.Tables[norm.CSV] == nil {
			continue
		}
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
		pg, err := x.groupedFigure(out.Tables, f.title, f.ylabel, yRatio, func(c AttnConfig, w, s string) (float64, bool) {
			v, ok := value(c, w, s)
			n, ok2 := value(*norm, w, s)
			if !ok || !ok2 || v == 0 || n == 0 {
				return 0, false
			}
			if f.inverse {
				return n / v, true
			}
			return v / n, true
		})
		if err := add(f.name, pg, err); err != nil {
			return nil, err
		}
	}
	if x.Pareto != nil && out.Tables[x.Pareto.CSV] != nil {
		pg, err := x.paretoFigure(out.Tables[x.Pareto.CSV])
		if err := add("fig12-area-vs-latency.svg", pg, err); err != nil {
			return nil, err
		}
	}
	return pages, nil
}

// unitName spells a compute unit as the paper does ("2d" → "2D").
func unitName(u string) string { return strings.ToUpper(u) }

var palette = []color.Color{
	color.RGBA{0x4c, 0x72, 0xb0, 0xff}, color.RGBA{0xdd, 0x84, 0x52, 0xff}, color.RGBA{0x55, 0xa8, 0x68, 0xff},
	color.RGBA{0xc4, 0x4e, 0x52, 0xff}, color.RGBA{0x81, 0x72, 0xb3, 0xff}, color.RGBA{0x93, 0x78, 0x60, 0xff},
	color.RGBA{0xda, 0x8b, 0xc3, 0xff}, color.RGBA{0x8c, 0x8c, 0x8c, 0xff},
}

// Font sizes in points. The pages are drawn at about the size of a printed
// figure, so these read as they would in the paper.
const (
	titleSize  = 15
	labelSize  = 13 // shared axis labels, legend
	panelSize  = 12 // panel titles
	tickSize   = 11
	pageMargin = vg.Length(10)
)

// page lays out panels in a grid under a title and a legend strip, so that
// the legend never covers data. Panels in a grid share one x and one y label,
// drawn once in the page's gutters: per-panel labels on the inner column
// would sit on the outer column's panels.
type page struct {
	title          string
	xlabel, ylabel string
	entries        []legendEntry
	rows           [][]*plot.Plot
	w, h           vg.Length
}

type legendEntry struct {
	text   string
	thumbs []plot.Thumbnailer
}

func newPage(title, xlabel, ylabel string, w, h vg.Length) *page {
	return &page{title: title, xlabel: xlabel, ylabel: ylabel, w: w, h: h}
}

func (pg *page) add(text string, thumbs ...plot.Thumbnailer) {
	pg.entries = append(pg.entries, legendEntry{text, thumbs})
}

func textStyle(size vg.Length) draw.TextStyle {
	sty := plot.NewLegend().TextStyle
	sty.Font.Size = size
	return sty
}

// wrap breaks s after commas or colons so that no line is wider than w,
// measured with the slack of slackWidth.
func wrap(sty draw.TextStyle, s string, w vg.Length) string {
	var segs []string
	for rest := s; rest != ""; {
		i := strings.IndexAny(rest, ",:")
		if i < 0 || i+1 == len(rest) {
			segs = append(segs, rest)
			break
		}
		segs = append(segs, rest[:i+1])
		rest = rest[i+1:]
	}
	var lines []string
	line := ""
	for _, seg := range segs {
		if line != "" && slackWidth(sty, line+seg) > w {
			lines = append(lines, strings.TrimSpace(line))
			line = ""
		}
		line += seg
	}
	return strings.Join(append(lines, strings.TrimSpace(line)), "\n")
}

// slackWidth is the width of s as a viewer may set it. The SVG anchors each
// text at its start; a viewer that ignores the embedded font (librsvg, for
// one) sets it in a fallback serif such as DejaVu Serif, about a quarter
// wider than the metrics say.
func slackWidth(sty draw.TextStyle, s string) vg.Length { return sty.Width(s) * textSlack }

const textSlack = 1.28

func (pg *page) svg() ([]byte, error) {
	// Fonts are referenced, not embedded (embedding put the whole 550 KB
	// font into every figure): the family falls back to the generic serif,
	// and the layout leaves room for a fallback wider than the metrics
	// (slackWidth).
	c := vgsvg.NewWith(vgsvg.UseWH(pg.w, pg.h), vgsvg.EmbedFonts(false))
	pg.draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, err
	}
	return withGenericFamily(b.Bytes()), nil
}

// withGenericFamily appends the generic family to every font-family the SVG
// names, so a viewer without the font sets the text in a serif face rather
// than its default.
func withGenericFamily(svg []byte) []byte {
	re := regexp.MustCompile(`font-family:([^;"']+);`)
	return re.ReplaceAllFunc(svg, func(m []byte) []byte {
		family := strings.TrimSpace(string(re.FindSubmatch(m)[1]))
		return []byte("font-family:'" + family + "',serif;")
	})
}

func (pg *page) draw(dc draw.Canvas) {
	top := dc.Max.Y - pageMargin
	sty := textStyle(titleSize)
	// Left-aligned: a centred title would sit off centre wherever the
	// viewer's font is wider than the metrics (see slackWidth).
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YTop
	for _, line := range strings.Split(wrap(sty, pg.title, dc.Size().X-2*pageMargin), "\n") {
		dc.FillText(sty, vg.Point{X: dc.Min.X + pageMargin, Y: top}, line)
		top -= sty.Height(line) + 2 // the handler's own line spacing is tighter than the font's extents
	}
	top -= 6
	top = pg.drawLegend(dc, top) - 6

	body := dc
	body.Max.Y = top
	body.Min.X += pageMargin
	body.Max.X -= pageMargin
	body.Min.Y += pageMargin / 2
	lab := textStyle(labelSize)
	if pg.ylabel != "" {
		s := lab
		s.Rotation, s.XAlign, s.YAlign = math.Pi/2, draw.XCenter, draw.YTop
		dc.FillText(s, vg.Point{X: body.Min.X, Y: (body.Min.Y + body.Max.Y) / 2}, pg.ylabel)
		body.Min.X += s.Height(pg.ylabel) + 6
	}
	if pg.xlabel != "" {
		s := lab
		s.XAlign, s.YAlign = draw.XCenter, draw.YBottom
		dc.FillText(s, vg.Point{X: (body.Min.X + body.Max.X) / 2, Y: body.Min.Y}, pg.xlabel)
		body.Min.Y += s.Height(pg.xlabel) + 6
	}
	tiles := draw.Tiles{Rows: len(pg.rows), Cols: len(pg.rows[0]), PadX: 24, PadY: 22, PadRight: 6}
	canv := plot.Align(pg.rows, tiles, body)
	for i, row := range pg.rows {
		for j, p := range row {
			if p != nil {
				p.Draw(canv[i][j])
			}
		}
	}
}

// drawLegend draws the legend's entries in rows below top, as many to a row
// as fit, left-aligned under the title, and returns the bottom of the last
// row.
func (pg *page) drawLegend(c draw.Canvas, top vg.Length) vg.Length {
	sty := textStyle(labelSize)
	sty.YAlign = draw.YCenter
	const thumb, gap = vg.Length(13), vg.Length(22)
	width := func(e legendEntry) vg.Length { return thumb + 5 + slackWidth(sty, e.text) }
	rowH := sty.Height("M") + 6
	avail := c.Size().X - 2*pageMargin
	for i := 0; i < len(pg.entries); {
		j, total := i, vg.Length(0)
		for j < len(pg.entries) && (j == i || total+gap+width(pg.entries[j]) <= avail) {
			if j > i {
				total += gap
			}
			total += width(pg.entries[j])
			j++
		}
		x := c.Min.X + pageMargin
		y := top - rowH/2
		for _, e := range pg.entries[i:j] {
			r := vg.Rectangle{Min: vg.Point{X: x, Y: y - thumb/2}, Max: vg.Point{X: x + thumb, Y: y + thumb/2}}
			for _, t := range e.thumbs {
				t.Thumbnail(&draw.Canvas{Canvas: c.Canvas, Rectangle: r})
			}
			c.FillText(sty, vg.Point{X: x + thumb + 5, Y: y}, e.text)
			x += width(e) + gap
		}
		top -= rowH
		i = j
	}
	return top
}

func newPanel(title string, vgrid bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = panelSize
	p.Title.Padding = 6
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Tick.Label.Font.Size = tickSize
		a.Label.TextStyle.Font.Size = labelSize
	}
	g := plotter.NewGrid()
	if !vgrid {
		g.Vertical.Color = nil // a vertical line would run through the middle of each group of bars
	}
	p.Add(g)
	return p
}

// bars are rectangles in data coordinates, so that bar widths and the gaps
// between groups follow the axis, not the size of the canvas.
type bars struct {
	color color.Color
	rects []vg.Rectangle // X: data x, Y: data y (vg.Length used as float64)
}

func (b *bars) add(x0, x1, y0, y1 float64) {
	b.rects = append(b.rects, vg.Rectangle{Min: vg.Point{X: vg.Length(x0), Y: vg.Length(y0)}, Max: vg.Point{X: vg.Length(x1), Y: vg.Length(y1)}})
}

func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, r := range b.rects {
		x0, x1 := trX(float64(r.Min.X)), trX(float64(r.Max.X))
		y0, y1 := trY(float64(r.Min.Y)), trY(float64(r.Max.Y))
		c.FillPolygon(b.color, c.ClipPolygonXY([]vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}))
	}
}

func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, r := range b.rects {
		xmin, xmax = math.Min(xmin, float64(r.Min.X)), math.Max(xmax, float64(r.Max.X))
		ymin, ymax = math.Min(ymin, float64(r.Min.Y)), math.Max(ymax, float64(r.Max.Y))
	}
	return
}

func (b *bars) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	c.FillPolygon(b.color, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
}

// yKind says how a grouped figure's y axis reads.
type yKind int

const (
	yPercent yKind = iota // 0–100 %
	yRatio                // relative to a baseline, marked at 1×
)

// seqAxis makes the panel's x axis the sequence lengths, one group each.
func (x *Experiment) seqAxis(p *plot.Plot) {
	labels := make([]string, len(x.Seqs))
	for i, s := range x.Seqs {
		labels[i] = s.Label
	}
	p.NominalX(labels...)
	// A baseline with ticks at the group centres; the ticks' length also
	// keeps the labels clear of the bars.
	p.X.Width, p.X.Tick.Width, p.X.Tick.Length = 1, 0.5, 4
	p.X.Min, p.X.Max = -0.5, float64(len(x.Seqs))-0.5
	p.X.Padding, p.Y.Padding = 0, 0
}

// padTicks leaves room right of the y tick labels: they are right-aligned
// by the metrics, and a wider fallback font would run them into the ticks.
type padTicks struct{ plot.Ticker }

func (t padTicks) Ticks(min, max float64) []plot.Tick {
	ts := append([]plot.Tick(nil), t.Ticker.Ticks(min, max)...) // ConstantTicks hands out its own slice
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label += "  " // the SVG viewer drops trailing spaces; the metrics count them
		}
	}
	return ts
}

// linTicks labels a linear axis from 0 to max every step.
func linTicks(max float64, format func(float64) string) plot.ConstantTicks {
	step := math.Pow(10, math.Floor(math.Log10(max/4)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if max/(m*step) <= 7 {
			step *= m
			break
		}
	}
	var ticks []plot.Tick
	for i := 0; float64(i)*step <= max*(1+1e-9); i++ {
		v := float64(i) * step
		ticks = append(ticks, plot.Tick{Value: v, Label: format(math.Round(v*1e9) / 1e9)})
		if i > 0 {
			ticks = append(ticks, plot.Tick{Value: v - step/2})
		}
	}
	return ticks
}

// groupedFigure draws one panel per workload: bars grouped by sequence
// length, one bar per configuration in the experiment's order (the paper's
// Figures 6 and 8–11). Every panel has the same y range, so that the
// workloads compare by eye.
func (x *Experiment) groupedFigure(tables map[string]*Table, title, ylabel string, kind yKind,
	value func(c AttnConfig, w, s string) (float64, bool)) (*page, error) {
	var cfgs []AttnConfig
	for _, c := range x.Attention {
		if tables[c.CSV] != nil {
			cfgs = append(cfgs, c)
		}
	}
	if len(cfgs) == 0 {
		return nil, nil
	}
	pg := newPage(title, "sequence length (M = P, tokens)", ylabel, 11*vg.Inch, 7.5*vg.Inch)
	const groupW = 0.84
	barW := groupW / float64(len(cfgs))
	var plots []*plot.Plot
	ymax := 0.0
	for _, w := range x.Workloads {
		p := newPanel(w.Name, false)
		for ci, c := range cfgs {
			b := &bars{color: palette[ci%len(palette)]}
			for i, s := range x.Seqs {
				v, ok := value(c, w.Name, s.Label)
				if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
					continue // no bar rather than a bar at zero
				}
				x0 := float64(i) - groupW/2 + barW*float64(ci)
				b.add(x0, x0+barW, 0, v)
				ymax = math.Max(ymax, v)
			}
			if len(b.rects) > 0 {
				p.Add(b)
			}
			if len(plots) == 0 {
				pg.add(c.Label, b)
			}
		}
		x.seqAxis(p)
		plots = append(plots, p)
	}
	var ticks plot.ConstantTicks
	switch kind {
	case yPercent:
		ymax = 100
		ticks = linTicks(100, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) })
	case yRatio:
		ymax = math.Max(ymax, 1)
		ticks = linTicks(ymax*1.06, func(v float64) string {
			if v == 0 {
				return "0"
			}
			return strconv.FormatFloat(v, 'f', -1, 64) + "×"
		})
	}
	for _, p := range plots {
		p.Y.Min, p.Y.Max = 0, ymax*1.06
		p.Y.Tick.Marker = padTicks{ticks}
		if kind == yRatio {
			l, _ := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 1}, {X: float64(len(x.Seqs)) - 0.5, Y: 1}})
			l.Dashes = []vg.Length{4, 3}
			l.Color = color.Gray{0x30}
			p.Add(l)
		}
	}
	pg.rows = grid(plots, 2)
	return pg, nil
}

// einsumFigure draws, for the first workload (BERT in the paper's Figure
// 7), the share of the latency each Einsum keeps the first unit (the 2D
// array) busy, stacked, one panel per configuration with per-Einsum columns.
func (x *Experiment) einsumFigure(tables map[string]*Table) (*page, error) {
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
	// One stacking order for every panel, so an Einsum sits at the same
	// place in each: the order of the configuration with the most Einsums
	// (the cascade's), then the others' extras.
	order := []string{}
	seen := map[string]bool{}
	most := cfgs[0]
	for _, c := range cfgs {
		if len(c.Columns) > len(most.Columns) {
			most = c
		}
	}
	for _, c := range append([]AttnConfig{most}, cfgs...) {
		for _, e := range c.Columns {
			if !seen[e] {
				seen[e] = true
				order = append(order, e)
			}
		}
	}
	pg := newPage(fmt.Sprintf("Figure 7: %s, share of the latency each Einsum keeps the %s array busy", w.Name, unitName(unit)),
		"sequence length (M = P, tokens)", "share of latency with the "+unitName(unit)+" array busy (%)", 11*vg.Inch, 7.5*vg.Inch)
	bs := make([]*bars, len(order))
	for i, e := range order {
		bs[i] = &bars{color: palette[i%len(palette)]}
		pg.add(e, bs[i])
	}
	var plots []*plot.Plot
	for _, c := range cfgs {
		p := newPanel(c.Label, false)
		has := map[string]bool{}
		for _, e := range c.Columns {
			has[e] = true
		}
		panel := make([]*bars, len(order))
		for i := range order {
			panel[i] = &bars{color: bs[i].color}
		}
		for si, s := range x.Seqs {
			y := 0.0
			for i, e := range order {
				v, ok := tables[c.CSV].Get(e, w.Name, s.Label)
				if !has[e] || !ok || math.IsNaN(v) || v <= 0 {
					continue
				}
				panel[i].add(float64(si)-0.3, float64(si)+0.3, y, y+100*v)
				y += 100 * v
			}
		}
		for _, b := range panel {
			if len(b.rects) > 0 {
				p.Add(b)
			}
		}
		x.seqAxis(p)
		p.Y.Min, p.Y.Max = 0, 106
		p.Y.Tick.Marker = padTicks{linTicks(100, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) })}
		plots = append(plots, p)
	}
	pg.rows = grid(plots, 2)
	return pg, nil
}

// paretoFigure draws area against attention latency, log-log, one line per
// workload through the PE-array sizes (the paper's Figure 12), each size
// named once, right of the slowest workload's point where no line runs.
func (x *Experiment) paretoFigure(t *Table) (*page, error) {
	pg := newPage(fmt.Sprintf("Figure 12: FuseMax area vs attention latency at %s tokens, PE array %s", x.Pareto.Seq.Label, peRange(x.Pareto.PEDims)),
		"", "", 9*vg.Inch, 7*vg.Inch)
	p := newPanel("", true)
	p.X.Label.Text, p.Y.Label.Text = "attention latency (s, log scale)", "area (mm², log scale)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, padTicks{plot.LogTicks{Prec: -1}}
	type point struct {
		plotter.XY
		set bool
	}
	slowest := map[string]point{}
	var dims []string
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for wi, w := range x.Workloads {
		var pts plotter.XYs
		for _, r := range t.Rows {
			if r.Keys[1] != w.Name {
				continue
			}
			lat, ok1 := t.Get("latency", r.Keys...)
			area, ok2 := t.Get("area", r.Keys...)
			if !ok1 || !ok2 || !(lat > 0) || !(area > 0) {
				continue
			}
			xy := plotter.XY{X: lat, Y: area / 1e6}
			pts = append(pts, xy)
			d := r.Keys[2]
			if s, ok := slowest[d]; !ok || xy.X > s.X {
				if !ok {
					dims = append(dims, d)
				}
				slowest[d] = point{xy, true}
			}
			xmin, xmax = math.Min(xmin, xy.X), math.Max(xmax, xy.X)
			ymin, ymax = math.Min(ymin, xy.Y), math.Max(ymax, xy.Y)
		}
		if len(pts) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		col := palette[wi%len(palette)]
		l.Color, s.Color = col, col
		l.Width = 1.5
		s.Shape = [...]draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}}[wi%4]
		s.Radius = 4
		p.Add(l, s)
		pg.add(w.Name, l, s)
	}
	if len(dims) == 0 {
		return nil, nil
	}
	var lab plotter.XYLabels
	for _, d := range dims {
		lab.XYs = append(lab.XYs, slowest[d].XY)
		lab.Labels = append(lab.Labels, d+"×"+d)
	}
	labels, err := plotter.NewLabels(lab)
	if err != nil {
		return nil, err
	}
	for i := range labels.TextStyle {
		labels.TextStyle[i].Font.Size = tickSize
		labels.TextStyle[i].XAlign, labels.TextStyle[i].YAlign = draw.XLeft, draw.YCenter
	}
	labels.Offset = vg.Point{X: 9}
	p.Add(labels)
	// Log-space margins: room for the size labels right of the points, and
	// no marker on the frame.
	p.X.Min, p.X.Max = xmin/1.6, xmax*4
	p.Y.Min, p.Y.Max = ymin/1.6, ymax*1.6
	pg.rows = [][]*plot.Plot{{p}}
	return pg, nil
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
