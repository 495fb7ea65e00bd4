package review

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// paretoAliases are the short names --pareto accepts for CSV columns.
var paretoAliases = map[string]string{
	"latency": "latency_s", "energy": "energy_pj", "traffic": "traffic_bytes", "area": "area_mm2", "cycles": "cycles",
}

// ParetoColumns resolves --pareto names (latency, energy, traffic, area,
// cycles, passes, or any numeric column such as peak_L3_bytes) to the
// table's columns. Every metric is minimized.
func (t *Table) ParetoColumns(names []string) ([]int, error) {
	if len(names) < 2 {
		return nil, fmt.Errorf("--pareto needs at least two metrics, e.g. latency,energy")
	}
	var cols []int
	for _, n := range names {
		c := n
		if a, ok := paretoAliases[n]; ok {
			c = a
		}
		i := slices.Index(t.Header, c)
		if i < slices.Index(t.Header, "passes") || i >= slices.Index(t.Header, "mapping_note") || c == "bound" {
			return nil, fmt.Errorf("--pareto: %q is not a metric of this sweep (latency, energy, traffic, area, cycles, passes, or a util_, peak_ or energy_ column)", n)
		}
		cols = append(cols, i)
	}
	return cols, nil
}

// Pareto returns, for each shape, the rows no other row of that shape
// beats on every column (lower is better; ties count as not beaten), in
// point order: designs compete on the same workload, not across lengths.
// Rows without a value in one of the columns (points that failed) take no
// part.
func (t *Table) Pareto(cols []int) []int {
	type cand struct {
		row int
		v   []float64
	}
	shape := slices.Index(t.Header, "shape")
	groups := map[string][]cand{}
	var order []string
	for r, row := range t.Rows {
		if v, ok := values(row, cols); ok {
			if _, seen := groups[row[shape]]; !seen {
				order = append(order, row[shape])
			}
			groups[row[shape]] = append(groups[row[shape]], cand{r, v})
		}
	}
	var out []int
	for _, g := range order {
		cs := groups[g]
		// After a lexicographic sort only an earlier point can dominate a
		// later one, so each point is checked against the front so far.
		slices.SortStableFunc(cs, func(a, b cand) int { return slices.Compare(a.v, b.v) })
		var front []cand
		for _, c := range cs {
			if !slices.ContainsFunc(front, func(f cand) bool { return dominates(f.v, c.v) }) {
				front = append(front, c)
			}
		}
		for _, f := range front {
			out = append(out, f.row)
		}
	}
	slices.Sort(out)
	return out
}

func values(row []string, cols []int) ([]float64, bool) {
	v := make([]float64, len(cols))
	for i, c := range cols {
		x, err := strconv.ParseFloat(row[c], 64)
		if err != nil || math.IsNaN(x) {
			return nil, false
		}
		v[i] = x
	}
	return v, true
}

// lacking counts the rows without a value in one of the columns.
func (t *Table) lacking(cols []int) int {
	n := 0
	for _, row := range t.Rows {
		if _, ok := values(row, cols); !ok {
			n++
		}
	}
	return n
}

// dominates: a is no worse than b everywhere and better somewhere.
func dominates(a, b []float64) bool {
	better := false
	for i := range a {
		if a[i] > b[i] {
			return false
		}
		better = better || a[i] < b[i]
	}
	return better
}

// WritePareto prints the front: each point's design, swept values, shape
// and the chosen metrics.
func (t *Table) WritePareto(w io.Writer, cols, front []int) {
	lo := slices.Index(t.Header, "kernel")
	fmt.Fprintf(w, "Pareto front per shape (%d of %d points; lower is better in each of ", len(front), len(t.Rows))
	var names []string
	for _, c := range cols {
		names = append(names, t.Header[c])
	}
	fmt.Fprintf(w, "%s)\n", strings.Join(names, ", "))
	if n := t.lacking(cols); n > 0 {
		fmt.Fprintf(w, "points without one of these metrics, which take no part: %d (not evaluated, or a GPU's energy or area, which its model does not give)\n", n)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(slices.Concat(t.Header[:lo], names), "\t"))
	for _, r := range front {
		row := slices.Clone(t.Rows[r][:lo])
		for _, c := range cols {
			row = append(row, t.Rows[r][c])
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
}
