package review

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/fusemax/fusemax/workload"
)

// SweepHTML renders a sweep as one self-contained page: the Pareto front
// of cols plotted (the first metric against each other one, every point
// grey, the front joined in colour) and tabulated.
func (t *Table) SweepHTML(title string, cols, front []int) []byte {
	var p page
	p.open(title, fmt.Sprintf("%d points; Pareto front of %d", len(t.Rows), len(front)))
	p.f(`<h2>Pareto front</h2><div class="grid">`)
	shape := slices.Index(t.Header, "shape")
	wl, seq := slices.Index(t.Header, "workload"), slices.Index(t.Header, "seq")
	label := func(row []string) string {
		if n, err := strconv.ParseInt(row[seq], 10, 64); err == nil && row[wl] != "" {
			return row[wl] + " " + workload.FormatLength(n)
		}
		return row[shape]
	}
	for k := 1; k < len(cols); k++ {
		xc, yc := cols[0], cols[k]
		var all []point
		var xs, ys []float64
		fronts := map[string]*series{}
		var order []string
		for r, row := range t.Rows {
			v, ok := values(row, []int{xc, yc})
			if !ok {
				continue
			}
			pt := point{v[0], v[1], fmt.Sprintf("point %s (%s, %s): %s %s, %s %s", row[0], row[1], row[shape], t.Header[xc], row[xc], t.Header[yc], row[yc])}
			all, xs, ys = append(all, pt), append(xs, v[0]), append(ys, v[1])
			if _, in := slices.BinarySearch(front, r); in {
				if fronts[row[shape]] == nil {
					fronts[row[shape]] = &series{name: label(row), color: color(len(order))}
					order = append(order, row[shape])
				}
				fronts[row[shape]].pts = append(fronts[row[shape]].pts, pt)
			}
		}
		var ss []series
		names, colors := []string{"every point"}, []string{"#b4bcc3"}
		for _, g := range order {
			s := fronts[g]
			slices.SortStableFunc(s.pts, func(a, b point) int { return cmpFloat(a.x, b.x) })
			ss = append(ss, *s)
			names, colors = append(names, "front at "+s.name), append(colors, s.color)
		}
		x := newAxis(xs, logSpread(xs), padL, padL+plotW)
		y := newAxis(ys, logSpread(ys), padT+plotH, padT)
		p.chart(scatterChart("pareto-"+strconv.Itoa(k), t.Header[yc]+" against "+t.Header[xc], t.Header[xc], t.Header[yc], x, y, all, ss), names, colors)
	}
	p.f("</div><h2>Front</h2>")
	lo := slices.Index(t.Header, "kernel")
	head := slices.Clone(t.Header[:lo])
	for _, c := range cols {
		head = append(head, t.Header[c])
	}
	var rows [][]string
	for _, r := range front {
		row := slices.Clone(t.Rows[r][:lo])
		for _, c := range cols {
			row = append(row, t.Rows[r][c])
		}
		rows = append(rows, row)
	}
	p.f(`<div class="card">`)
	p.table(head, rows, nil)
	p.f("</div>")
	return p.close()
}

// logSpread says whether values spanning this much read better on a log
// axis (more than a factor of 30, all positive).
func logSpread(v []float64) bool {
	if len(v) == 0 || slices.Min(v) <= 0 {
		return false
	}
	return slices.Max(v)/slices.Min(v) > 30
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
