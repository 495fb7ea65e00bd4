package review

import (
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// Row is one design on one case.
type Row struct {
	Design string   `json:"design"`
	M      *Metrics `json:"metrics,omitempty"`
	// Speedup is the baseline's latency over this design's; EnergyRatio is
	// this design's energy over the baseline's (NaN when either failed).
	Speedup     float64 `json:"speedup"`
	EnergyRatio float64 `json:"energy_ratio"`
	Error       string  `json:"error,omitempty"` // why the point could not be evaluated (e.g. it does not fit)
}

// Comparison is a review's evaluated points: one table per case, one row
// per design, in the review's order.
type Comparison struct {
	Review *Review
	Tables [][]*Row // [case][design]
	// Units, Levels and Parts are every compute or memory unit, on-chip
	// buffer level and energy component any row reports, in name order.
	Units, Levels, Parts []string
}

// Options tunes a run; the zero value uses every core and reports nothing.
type Options struct {
	Workers  int
	Progress func(done, total int) // called after each point, from one goroutine at a time
}

// Compare evaluates every design of r on every case. A point that cannot
// be evaluated (a design that does not fit at one length) is kept as a row
// with its error; a design that fails on every case is an error.
func Compare(r *Review, e *Evaluator, opt Options) (*Comparison, error) {
	nd, nc := len(r.Designs), len(r.Cases)
	ms := make([]*Metrics, nd*nc)
	errs := make([]error, nd*nc)
	run(nd*nc, opt, func(i int) {
		d, c := r.Designs[i/nc], r.Cases[i%nc]
		ms[i], errs[i] = e.Evaluate(d, c, r.Profile)
	})
	for di, d := range r.Designs {
		failed := 0
		for ci := range r.Cases {
			if errs[di*nc+ci] != nil {
				failed++
			}
		}
		if failed == nc {
			return nil, fmt.Errorf("design %s: %w", d.Label, errs[di*nc])
		}
	}
	cmp := &Comparison{Review: r}
	base := slices.IndexFunc(r.Designs, func(d *Design) bool { return d.Label == r.Baseline })
	for ci := range r.Cases {
		var t []*Row
		for di, d := range r.Designs {
			row := &Row{Design: d.Label, M: ms[di*nc+ci], Speedup: math.NaN(), EnergyRatio: math.NaN()}
			if err := errs[di*nc+ci]; err != nil {
				row.Error = err.Error()
			}
			if b := ms[base*nc+ci]; b != nil && row.M != nil {
				row.Speedup, row.EnergyRatio = b.LatencyS/row.M.LatencyS, row.M.EnergyPJ/b.EnergyPJ
			}
			t = append(t, row)
		}
		cmp.Tables = append(cmp.Tables, t)
	}
	cmp.Units, cmp.Levels, cmp.Parts = columns(ms)
	return cmp, nil
}

// columns is the union of the units, buffer levels and energy components
// the points report, each in name order.
func columns(ms []*Metrics) (units, levels, parts []string) {
	u, l, p := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, m := range ms {
		if m == nil {
			continue
		}
		for k := range m.Utilization {
			u[k] = true
		}
		for k := range m.BufferPeakBytes {
			l[k] = true
		}
		for k := range m.EnergyParts {
			p[k] = true
		}
	}
	return slices.Sorted(maps.Keys(u)), slices.Sorted(maps.Keys(l)), slices.Sorted(maps.Keys(p))
}

// run calls f(0..n-1) on opt.Workers goroutines, reporting progress.
func run(n int, opt Options, f func(i int)) {
	w := opt.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	w = min(w, max(n, 1))
	var next, done atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
				d := int(done.Add(1))
				if opt.Progress != nil {
					mu.Lock()
					opt.Progress(d, n)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
}
