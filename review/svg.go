package review

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// The charts are hand-written SVG: fixed-size viewBoxes scaled to their
// column, every data mark of class "mark" with its value in a <title>
// (the browser's tooltip), so a reader can hover for the number and a test
// can count the marks.

// palette is Okabe and Ito's colour-blind-safe set, then darker variants.
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
	"#005a8c", "#a87400", "#00755a", "#9c5a80"}

func color(i int) string { return palette[i%len(palette)] }

const (
	chartW, chartH             = 600, 340
	padL, padR, padT, padB     = 78, 18, 34, 52
	plotW, plotH               = chartW - padL - padR, chartH - padT - padB
	tickFont, titleFont, label = 11, 14, 12
)

// axis maps data values to pixels, linear or logarithmic.
type axis struct {
	lo, hi float64
	log    bool
	px0    float64 // pixel of lo
	px1    float64 // pixel of hi
	format func(float64) string
	ticks  []float64 // explicit ticks, or nil for automatic ones
}

func (a *axis) pos(v float64) float64 {
	lo, hi, x := a.lo, a.hi, v
	if a.log {
		lo, hi, x = math.Log10(lo), math.Log10(hi), math.Log10(v)
	}
	if hi == lo {
		return (a.px0 + a.px1) / 2
	}
	return a.px0 + (x-lo)/(hi-lo)*(a.px1-a.px0)
}

// newAxis spans vals (padded a little), from zero when linear and all
// values are non-negative.
func newAxis(vals []float64, log bool, px0, px1 float64) *axis {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) || (log && v <= 0) {
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1, 10
	}
	a := &axis{log: log, px0: px0, px1: px1, format: short}
	if log {
		a.lo, a.hi = math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
		if a.lo == a.hi {
			a.hi *= 10
		}
		return a
	}
	if lo >= 0 {
		lo = 0
	}
	step := niceStep((hi - lo) / 5)
	a.lo, a.hi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	if a.hi == a.lo {
		a.hi = a.lo + 1
	}
	return a
}

func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func (a *axis) tickValues() []float64 {
	if a.ticks != nil {
		return a.ticks
	}
	var out []float64
	if a.log {
		n := math.Log10(a.hi / a.lo)
		every := math.Max(1, math.Ceil(n/7))
		for e := math.Log10(a.lo); e <= math.Log10(a.hi)+1e-9; e += every {
			out = append(out, math.Pow(10, e))
		}
		return out
	}
	step := niceStep((a.hi - a.lo) / 5)
	for v := a.lo; v <= a.hi+step*1e-9; v += step {
		out = append(out, v)
	}
	return out
}

// short prints a tick label: 1.5k, 20M, 1e-06.
func short(v float64) string {
	av := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case av >= 1e3 && av < 1e15:
		e := int(math.Floor(math.Log10(av) / 3))
		return strconv.FormatFloat(v/math.Pow(1000, float64(e)), 'g', 3, 64) + string("kMGT"[e-1])
	case av < 1e-2:
		return strconv.FormatFloat(v, 'e', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// canvas collects one chart's SVG.
type canvas struct {
	b     strings.Builder
	marks int
}

func (c *canvas) f(format string, args ...any) { fmt.Fprintf(&c.b, format, args...) }

func esc(s string) string { return html.EscapeString(s) }

// frame draws the title, axes, grid and tick labels.
func (c *canvas) frame(title, xlabel, ylabel string, x, y *axis) {
	c.f(`<text x="%d" y="20" font-size="%d" font-weight="600">%s</text>`, padL, titleFont, esc(title))
	for _, v := range y.tickValues() {
		py := y.pos(v)
		c.f(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e3e3e3"/>`, padL, padL+plotW, py, py)
		c.f(`<text x="%d" y="%.1f" font-size="%d" text-anchor="end" dominant-baseline="middle">%s</text>`, padL-6, py, tickFont, esc(y.format(v)))
	}
	if x != nil {
		for _, v := range x.tickValues() {
			px := x.pos(v)
			c.f(`<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#e3e3e3"/>`, px, px, padT, padT+plotH)
			c.f(`<text x="%.1f" y="%d" font-size="%d" text-anchor="middle">%s</text>`, px, padT+plotH+16, tickFont, esc(x.format(v)))
		}
	}
	c.f(`<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>`, padL, padT, plotW, plotH)
	c.f(`<text x="%d" y="%d" font-size="%d" text-anchor="middle">%s</text>`, padL+plotW/2, chartH-8, label, esc(xlabel))
	c.f(`<text transform="translate(16 %d) rotate(-90)" font-size="%d" text-anchor="middle">%s</text>`, padT+plotH/2, label, esc(ylabel))
}

// svg wraps the drawing; id names the chart for the page and its tests.
func (c *canvas) svg(id string) string {
	return fmt.Sprintf(`<svg class="chart" id="%s" data-marks="%d" viewBox="0 0 %d %d" role="img" font-family="sans-serif">%s</svg>`,
		esc(id), c.marks, chartW, chartH, c.b.String())
}

// series is one line or set of points of a chart.
type series struct {
	name  string
	color string
	pts   []point
}

type point struct {
	x, y float64
	tip  string // the tooltip
}

// lineChart draws series against x (points joined in order).
func lineChart(id, title, xlabel, ylabel string, x, y *axis, ss []series) string {
	var c canvas
	c.frame(title, xlabel, ylabel, x, y)
	for i, s := range ss {
		var path []string
		for _, p := range s.pts {
			path = append(path, fmt.Sprintf("%.1f,%.1f", x.pos(p.x), y.pos(p.y)))
		}
		if len(path) > 1 {
			c.f(`<polyline fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s" points="%s"/>`, s.color, dashes[i%len(dashes)], strings.Join(path, " "))
		}
		for _, p := range s.pts {
			c.marker(i, x.pos(p.x), y.pos(p.y), s.color, p.tip)
		}
	}
	return c.svg(id)
}

// dashes and marker shapes tell apart series that lie on top of each
// other (two designs with the same latency).
var dashes = []string{"none", "7 4", "2 3", "10 3 2 3"}

// marker draws data mark i's shape: circle, square, diamond, triangle.
func (c *canvas) marker(i int, x, y float64, color, tip string) {
	c.marks++
	t := "<title>" + esc(tip) + "</title>"
	switch i % 4 {
	case 0:
		c.f(`<circle class="mark" cx="%.1f" cy="%.1f" r="4" fill="%s">%s</circle>`, x, y, color, t)
	case 1:
		c.f(`<rect class="mark" x="%.1f" y="%.1f" width="7" height="7" fill="%s">%s</rect>`, x-3.5, y-3.5, color, t)
	case 2:
		c.f(`<path class="mark" d="M%.1f %.1fl4.5 4.5l-4.5 4.5l-4.5 -4.5z" fill="%s">%s</path>`, x, y-4.5, color, t)
	default:
		c.f(`<path class="mark" d="M%.1f %.1fl4.5 8l-9 0z" fill="%s">%s</path>`, x, y-4.5, color, t)
	}
}

// barChart draws groups of bars: vals[g][k] is key k's bar in group g;
// stacked puts a group's keys on top of each other.
func barChart(id, title, ylabel string, groups, keys []string, colors []string, vals [][]float64, stacked bool, y *axis) string {
	var c canvas
	c.frame(title, "", ylabel, nil, y)
	gw := float64(plotW) / float64(max(len(groups), 1))
	bw := gw * 0.8
	if !stacked {
		bw /= float64(max(len(keys), 1))
	}
	for g, name := range groups {
		x0 := float64(padL) + gw*float64(g) + gw*0.1
		base := 0.0
		for k, key := range keys {
			v := vals[g][k]
			if math.IsNaN(v) {
				continue
			}
			bx, lo, hi := x0+bw*float64(k), 0.0, v
			if stacked {
				bx, lo, hi = x0, base, base+v
				base = hi
			}
			top, bot := y.pos(hi), y.pos(lo)
			c.marks++
			c.f(`<rect class="mark" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
				bx, top, math.Max(bw-1, 1), math.Max(bot-top, 0.5), colors[k], esc(name), esc(key), esc(y.format(v)))
		}
		c.f(`<text x="%.1f" y="%d" font-size="%d" text-anchor="middle">%s</text>`, x0+gw*0.4, padT+plotH+16, tickFont, esc(clip(name, int(gw/6.5))))
	}
	return c.svg(id)
}

// clip shortens a label to n characters with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if n < 2 || len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// roof is one machine's roofline: min(peak, intensity × bandwidth).
type roof struct {
	name            string
	peak, bandwidth float64
}

// rooflineChart places points (x: PE operations per off-chip byte, y: PE
// operations per second) under each machine's roof.
func rooflineChart(id, title string, roofs []roof, ss []series) string {
	var xs, ys []float64
	for _, s := range ss {
		for _, p := range s.pts {
			xs, ys = append(xs, p.x), append(ys, p.y)
		}
	}
	for _, r := range roofs {
		ys = append(ys, r.peak)
		xs = append(xs, r.peak/r.bandwidth)
	}
	x := newAxis(xs, true, padL, padL+plotW)
	y := newAxis(ys, true, padT+plotH, padT)
	var c canvas
	c.frame(title, "operational intensity (work per off-chip byte)", "attained (work/s)", x, y)
	for i, r := range roofs {
		knee := r.peak / r.bandwidth
		x0 := x.lo
		c.f(`<polyline fill="none" stroke="#555" stroke-dasharray="5 3" points="%.1f,%.1f %.1f,%.1f %.1f,%.1f"/>`,
			x.pos(x0), y.pos(math.Max(x0*r.bandwidth, y.lo)), x.pos(knee), y.pos(r.peak), x.pos(x.hi), y.pos(r.peak))
		c.f(`<text x="%.1f" y="%.1f" font-size="%d" fill="#555" text-anchor="end">%s</text>`, float64(padL+plotW-4), y.pos(r.peak)-4-float64(i*(tickFont+2)), tickFont, esc(r.name))
	}
	for i, s := range ss {
		for _, p := range s.pts {
			c.marker(i, x.pos(p.x), y.pos(p.y), s.color, p.tip)
		}
	}
	return c.svg(id)
}

// scatterChart draws every point in grey and each front's points (a
// Pareto front, sorted by x) joined in its series' colour.
func scatterChart(id, title, xlabel, ylabel string, x, y *axis, all []point, fronts []series) string {
	var c canvas
	c.frame(title, xlabel, ylabel, x, y)
	for _, p := range all {
		c.marks++
		c.f(`<circle class="mark" cx="%.1f" cy="%.1f" r="3" fill="#b4bcc3"><title>%s</title></circle>`, x.pos(p.x), y.pos(p.y), esc(p.tip))
	}
	for _, s := range fronts {
		var path []string
		for _, p := range s.pts {
			path = append(path, fmt.Sprintf("%.1f,%.1f", x.pos(p.x), y.pos(p.y)))
		}
		if len(path) > 1 {
			c.f(`<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, s.color, strings.Join(path, " "))
		}
		for _, p := range s.pts {
			c.marks++
			c.f(`<circle class="mark front" cx="%.1f" cy="%.1f" r="5" fill="%s"><title>%s</title></circle>`, x.pos(p.x), y.pos(p.y), s.color, esc(p.tip))
		}
	}
	return c.svg(id)
}
