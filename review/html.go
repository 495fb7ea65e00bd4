package review

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/fusemax/fusemax/workload"
)

// pageCSS keeps the report readable at any width from 1280 px down: two
// chart columns that fall to one, tables that scroll inside their box.
const pageCSS = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2327;background:#f6f7f9}
main{max-width:1240px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 10px;border-bottom:1px solid #d7dbe0;padding-bottom:4px}
h3{font-size:16px;margin:22px 0 8px}.sub{color:#5b6770;margin:0 0 16px}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:12px 14px;margin:0 0 14px;min-width:0}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:14px}
@media (max-width:900px){.grid{grid-template-columns:minmax(0,1fr)}}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
th,td{padding:4px 9px;border-bottom:1px solid #e8ebee;text-align:right;white-space:nowrap}
th{background:#f0f2f5;font-weight:600}th:first-child,td:first-child{text-align:left}
tr.base td{background:#fbf7e9}table.text td,table.text th{text-align:left}td.err{color:#a33;text-align:left;white-space:normal}
svg.chart{width:100%;height:auto;display:block}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;margin:6px 0 0 6px;padding:0;list-style:none}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.notes{font-size:12.5px;color:#5b6770;margin:6px 0 0;padding-left:18px}
.kpi{display:flex;flex-wrap:wrap;gap:12px}.kpi div{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:10px 14px;min-width:180px}
.kpi b{display:block;font-size:20px}.kpi span{color:#5b6770;font-size:12px}
footer{color:#8a949c;font-size:12px;margin-top:36px}
`

// page is an HTML document under construction.
type page struct{ b strings.Builder }

func (p *page) f(format string, args ...any) { fmt.Fprintf(&p.b, format, args...) }

func (p *page) open(title, sub string) {
	p.f("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
	p.f("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
	p.f("<title>%s</title><style>%s</style></head>\n<body><main>\n<h1>%s</h1><p class=\"sub\">%s</p>\n", esc(title), pageCSS, esc(title), esc(sub))
}

func (p *page) close() []byte {
	p.f("<footer>Written by fusemax from cascades, architecture specs and mappings through the lowering and the cycle-level simulator. Hover a mark for its value.</footer>\n</main></body></html>\n")
	return []byte(p.b.String())
}

// table writes an HTML table; rowClass may mark rows (e.g. the baseline).
func (p *page) table(head []string, rows [][]string, rowClass func(i int) string) {
	p.tableClass("", head, rows, rowClass)
}

// tableClass is table with a class on the table (text: left-aligned).
func (p *page) tableClass(class string, head []string, rows [][]string, rowClass func(i int) string) {
	p.f(`<div class="scroll"><table class="%s"><thead><tr>`, class)
	for _, h := range head {
		p.f("<th>%s</th>", esc(h))
	}
	p.f("</tr></thead><tbody>")
	for i, r := range rows {
		cls := ""
		if rowClass != nil {
			cls = rowClass(i)
		}
		p.f(`<tr class="%s">`, cls)
		for _, c := range r {
			p.f("<td>%s</td>", esc(c))
		}
		p.f("</tr>")
	}
	p.f("</tbody></table></div>\n")
}

func (p *page) legend(names, colors []string) {
	p.f(`<ul class="legend">`)
	for i, n := range names {
		p.f(`<li><span class="sw" style="background:%s"></span>%s</li>`, colors[i], esc(n))
	}
	p.f("</ul>")
}

// chart puts one SVG with its legend in a card.
func (p *page) chart(svg string, names, colors []string) {
	p.f(`<div class="card">%s`, svg)
	if len(names) > 0 {
		p.legend(names, colors)
	}
	p.f("</div>\n")
}

// HTML renders the comparison as one self-contained page: the headline
// numbers, the designs, latency and energy against sequence length, the
// roofline, and per shape its table, utilization and energy breakdown.
func (c *Comparison) HTML() ([]byte, error) {
	r := c.Review
	var p page
	p.open(r.Title, fmt.Sprintf("%d designs × %d shapes; baseline %s; energy profile %s", len(r.Designs), len(r.Cases), r.Baseline, r.Profile))
	c.headline(&p)
	c.designTable(&p)
	c.trendCharts(&p)
	c.rooflines(&p)
	p.f("<h2>Per shape</h2>\n")
	for ci := range c.Tables {
		c.caseSection(&p, ci)
	}
	return p.close(), nil
}

func (c *Comparison) designColors() (names, colors []string) {
	for i, d := range c.Review.Designs {
		names, colors = append(names, d.Label), append(colors, color(i))
	}
	return names, colors
}

// headline is each design's geometric-mean speedup and energy ratio over
// the shapes both it and the baseline ran.
func (c *Comparison) headline(p *page) {
	p.f(`<div class="kpi">`)
	for di, d := range c.Review.Designs {
		if d.Label == c.Review.Baseline {
			continue
		}
		var ls, le float64
		n := 0
		for _, t := range c.Tables {
			if !math.IsNaN(t[di].Speedup) {
				ls, le, n = ls+math.Log(t[di].Speedup), le+math.Log(t[di].EnergyRatio), n+1
			}
		}
		if n == 0 {
			continue
		}
		sp, speed := math.Exp(ls/float64(n)), "faster"
		if sp < 1 {
			sp, speed = 1/sp, "slower"
		}
		energy := fmt.Sprintf("energy %s of %s's", ratio(math.Exp(le/float64(n))), esc(c.Review.Baseline))
		if math.IsNaN(le) {
			energy = "no energy model"
		}
		p.f(`<div><span>%s</span><b>%s %s</b><span>%s (geomean of %d shapes)</span></div>`, esc(d.Label), times(sp), speed, energy, n)
	}
	p.f("</div>\n")
}

func (c *Comparison) designTable(p *page) {
	p.f("<h2>Designs</h2>\n")
	var rows [][]string
	for di, d := range c.Review.Designs {
		rows = append(rows, []string{d.Label, c.describe(di)})
	}
	p.tableClass("text", []string{"design", "what it is"}, rows, func(i int) string {
		if c.Review.Designs[i].Label == c.Review.Baseline {
			return "base"
		}
		return ""
	})
}

// families groups the cases into series that share everything but the
// sequence length, in first-appearance order.
func (c *Comparison) families() (names []string, members map[string][]int) {
	members = map[string][]int{}
	for ci, cs := range c.Review.Cases {
		if _, ok := members[cs.Family]; !ok {
			names = append(names, cs.Family)
		}
		members[cs.Family] = append(members[cs.Family], ci)
	}
	return names, members
}

// trendCharts draws latency and energy against sequence length, one pair
// per family with at least two lengths.
func (c *Comparison) trendCharts(p *page) {
	fams, members := c.families()
	started := false
	for fi, fam := range fams {
		idx := members[fam]
		if len(idx) < 2 {
			continue
		}
		if !started {
			p.f("<h2>Against sequence length</h2>\n")
			started = true
		}
		p.f(`<h3>%s</h3><div class="grid">`, esc(famTitle(fam)))
		for _, q := range []struct{ name, unit string }{{"latency", "s"}, {"energy", "J"}} {
			if svg, n := c.trend(fmt.Sprintf("%s-%d", q.name, fi), q.name, q.unit, idx); n > 0 {
				p.chart(svg, nil, nil)
			}
		}
		p.f("</div>")
		names, colors := c.designColors()
		p.legend(names, colors)
	}
}

func famTitle(f string) string {
	if f == "" {
		return "every shape"
	}
	return f
}

// trend is one quantity against length, and how many points it drew.
func (c *Comparison) trend(id, what, unit string, idx []int) (string, int) {
	var ss []series
	var xs, ys, ticks []float64
	for _, ci := range idx {
		ticks = append(ticks, float64(c.Review.Cases[ci].Seq))
	}
	for di, d := range c.Review.Designs {
		s := series{name: d.Label, color: color(di)}
		for _, ci := range idx {
			m := c.Tables[ci][di].M
			if m == nil {
				continue
			}
			v := m.LatencyS
			if what == "energy" {
				v = m.EnergyPJ * 1e-12
			}
			if math.IsNaN(v) || v <= 0 {
				continue // a machine whose spec models no energy
			}
			seq := float64(c.Review.Cases[ci].Seq)
			s.pts = append(s.pts, point{seq, v, fmt.Sprintf("%s at %s: %s", d.Label, workload.FormatLength(int64(seq)), si(v, unit))})
			xs, ys = append(xs, seq), append(ys, v)
		}
		ss = append(ss, s)
	}
	x := newAxis(xs, true, padL, padL+plotW)
	x.lo, x.hi = slices.Min(ticks), slices.Max(ticks)
	if x.lo == x.hi {
		x.lo, x.hi = x.lo/2, x.hi*2
	}
	x.ticks = thin(ticks, 8)
	x.format = func(v float64) string { return workload.FormatLength(int64(v)) }
	y := newAxis(ys, true, padT+plotH, padT)
	y.format = func(v float64) string { return si(v, unit) }
	return lineChart(id, strings.ToUpper(what[:1])+what[1:]+" against sequence length", "sequence length", what+" ("+unit+", log)", x, y, ss), len(xs)
}

// thin keeps at most n of the ticks, evenly spread, always the ends.
func thin(t []float64, n int) []float64 {
	if len(t) <= n {
		return t
	}
	var out []float64
	for i := 0; i < n; i++ {
		out = append(out, t[i*(len(t)-1)/(n-1)])
	}
	return out
}

// rooflines places every design at every shape of a family under the
// roofs of the machines the family's designs run on.
func (c *Comparison) rooflines(p *page) {
	fams, members := c.families()
	p.f("<h2>Roofline placement</h2>\n<p class=\"sub\">Work counts PE operations (busy PE-cycles) on a spatial array, whose roof is its PE count × clock, and useful FLOPs on a GPU, whose roof is its tensor-core peak; the slope is the off-chip bandwidth.</p><div class=\"grid\">")
	for fi, fam := range fams {
		var ss []series
		roofs := map[string]roof{}
		for di, d := range c.Review.Designs {
			s := series{name: d.Label, color: color(di)}
			for _, ci := range members[fam] {
				m := c.Tables[ci][di].M
				if m == nil || m.TrafficBytes <= 0 || m.WorkOps <= 0 {
					continue
				}
				roofs[m.Arch] = roof{m.Arch, m.PeakOpsS, m.BandwidthBS}
				s.pts = append(s.pts, point{m.Intensity(), m.Attained(), fmt.Sprintf("%s, %s: %.3g ops/B, %.3g ops/s", d.Label, c.Review.Cases[ci].Name, m.Intensity(), m.Attained())})
			}
			ss = append(ss, s)
		}
		rs := sameRoofs(roofs)
		names, colors := c.designColors()
		p.chart(rooflineChart(fmt.Sprintf("roofline-%d", fi), "Roofline: "+famTitle(fam), rs, ss), names, colors)
	}
	p.f("</div>\n")
}

// caseSection is one shape's table, notes, utilization and energy
// breakdown charts.
func (c *Comparison) caseSection(p *page, ci int) {
	cs := c.Review.Cases[ci]
	t := c.Tables[ci]
	p.f(`<h3>%s</h3><div class="card">`, esc(cs.Name))
	p.table(c.header(), rowsOf(c, t), func(i int) string {
		if t[i].Design == c.Review.Baseline {
			return "base"
		}
		return ""
	})
	notes := c.notes(ci)
	if len(notes) > 0 {
		p.f(`<ul class="notes">`)
		for _, n := range notes {
			p.f("<li>%s</li>", esc(n))
		}
		p.f("</ul>")
	}
	p.f(`</div><div class="grid">`)
	c.utilChart(p, ci)
	if c.hasEnergyParts(ci) {
		c.energyChart(p, ci)
	}
	p.f("</div>\n")
}

func (c *Comparison) utilChart(p *page, ci int) {
	var groups []string
	var vals [][]float64
	for _, r := range c.Tables[ci] {
		groups = append(groups, r.Design)
		row := make([]float64, len(c.Units))
		for k, u := range c.Units {
			row[k] = math.NaN()
			if r.M != nil {
				if v, ok := r.M.Utilization[u]; ok {
					row[k] = 100 * v
				}
			}
		}
		vals = append(vals, row)
	}
	colors := make([]string, len(c.Units))
	for i := range colors {
		colors[i] = color(i + 4)
	}
	y := &axis{lo: 0, hi: 100, px0: padT + plotH, px1: padT, format: func(v float64) string { return fmt.Sprintf("%.0f%%", v) }}
	p.chart(barChart(fmt.Sprintf("util-%d", ci), "Utilization per unit", "busy share of the run", groups, c.Units, colors, vals, false, y), c.Units, colors)
}

func (c *Comparison) energyChart(p *page, ci int) {
	var groups []string
	var vals [][]float64
	var tops []float64
	for _, r := range c.Tables[ci] {
		groups = append(groups, r.Design)
		row := make([]float64, len(c.Parts))
		sum := 0.0
		for k, part := range c.Parts {
			row[k] = math.NaN()
			if v, ok := r.M.energyPart(part); ok {
				row[k] = v * 1e-12
				sum += row[k]
			}
		}
		vals, tops = append(vals, row), append(tops, sum)
	}
	colors := make([]string, len(c.Parts))
	for i := range colors {
		colors[i] = color(i)
	}
	y := newAxis(tops, false, padT+plotH, padT)
	y.format = func(v float64) string { return si(v, "J") }
	p.chart(barChart(fmt.Sprintf("parts-%d", ci), "Energy by component", "energy", groups, c.Parts, colors, vals, true, y), c.Parts, colors)
}

// energyPart is one component's energy, if the design has that component
// (a GPU, with no energy model, has none).
func (m *Metrics) energyPart(part string) (float64, bool) {
	if m == nil {
		return 0, false
	}
	v, ok := m.EnergyParts[part]
	return v, ok
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// sameRoofs lists the machines' roofs in name order, one line for
// machines with the same peak and bandwidth (named together).
func sameRoofs(byArch map[string]roof) []roof {
	var out []roof
	for _, k := range slices.Sorted(mapsKeys(byArch)) {
		r := byArch[k]
		if i := slices.IndexFunc(out, func(o roof) bool { return o.peak == r.peak && o.bandwidth == r.bandwidth }); i >= 0 {
			out[i].name += ", " + r.name
			continue
		}
		out = append(out, r)
	}
	return out
}

// hasEnergyParts says whether any design at case ci has an energy
// breakdown (a GPU spec without an energy model has none).
func (c *Comparison) hasEnergyParts(ci int) bool {
	for _, r := range c.Tables[ci] {
		if r.M != nil && len(r.M.EnergyParts) > 0 {
			return true
		}
	}
	return false
}
