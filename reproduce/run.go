package reproduce

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/fusemax/fusemax/lower"
)

// Options tunes a reproduction.
type Options struct {
	// Profile is the energy accounting profile of the CSVs; "" means the
	// experiment's. The headline configurations are also evaluated under
	// the other one (physical, or the experiment's when Profile is
	// physical), for the summary.
	Profile string
	// Workers bounds concurrent evaluations; 0 means GOMAXPROCS.
	Workers int
	// Progress, when set, is called after each finished job (from one
	// goroutine at a time).
	Progress func(done, total int)
}

// Output is a finished reproduction.
type Output struct {
	Experiment *Experiment
	Profile    string
	// Tables holds the CSVs by file name; Files lists them in the
	// experiment's order.
	Tables map[string]*Table
	Files  []string
	// AltProfile and Alt: the headline configurations' and the end-to-end
	// platforms' tables under the other energy profile ("" and nil when the
	// two profiles are the same).
	AltProfile string
	Alt        map[string]*Table
	// Failed says, per CSV that could not be built, why (its first failing
	// point); such a CSV is absent from Tables.
	Failed map[string]string
	Points int // distinct design points evaluated
}

// memo evaluates each distinct point once, concurrently safe.
type memo struct {
	ev Evaluator
	mu sync.Mutex
	m  map[string]*memoEntry
}

type memoEntry struct {
	once sync.Once
	r    *Result
	err  error
}

func (m *memo) get(p Point) (*Result, error) {
	k := p.Key()
	m.mu.Lock()
	e, ok := m.m[k]
	if !ok {
		e = &memoEntry{}
		m.m[k] = e
	}
	m.mu.Unlock()
	e.once.Do(func() {
		e.r, e.err = m.ev.Evaluate(p)
		if e.err != nil {
			e.err = fmt.Errorf("%s at %s: %w", p.Config, describe(p), e.err)
		}
	})
	return e.r, e.err
}

func describe(p Point) string {
	s := strings.ReplaceAll(fmtShape(p.Shape), ",", " ")
	if len(p.ArchSet) > 0 {
		s += " --set " + strings.Join(p.ArchSet, " --set ")
	}
	return s + " (" + p.Profile + " energy)"
}

func fmtShape(m map[string]int64) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+strconv.FormatInt(m[k], 10))
	}
	return strings.Join(parts, ",")
}

// Run evaluates every point of the experiment and builds its tables. A
// table with a failing point is left out and its reason recorded; Run
// itself fails only on a malformed experiment.
func Run(x *Experiment, ev Evaluator, opt Options) (*Output, error) {
	prof := opt.Profile
	if prof == "" {
		prof = x.Profile
	}
	alt := lower.ProfilePhysical
	if prof == lower.ProfilePhysical {
		alt = x.Profile
	}
	if alt == prof {
		alt = ""
	}
	out := &Output{Experiment: x, Profile: prof, AltProfile: alt, Tables: map[string]*Table{}, Failed: map[string]string{}}
	if alt != "" {
		out.Alt = map[string]*Table{}
	}
	m := &memo{ev: ev, m: map[string]*memoEntry{}}

	// Every job is a closure that fills its own slot; tables are assembled
	// afterwards in a fixed order, so the output does not depend on timing.
	var jobs []func()
	type cell struct {
		r   *Result
		err error
	}
	attn := func(c AttnConfig, w Workload, s Seq, profile string) *cell {
		slot := &cell{}
		jobs = append(jobs, func() {
			slot.r, slot.err = m.get(Point{Config: c.Config, Shape: w.Shape(s.N), Profile: profile})
		})
		return slot
	}
	layers := func(pl Platform, w Workload, s Seq, profile string) []*cell {
		var cells []*cell
		for _, l := range x.Layers {
			slot := &cell{}
			jobs = append(jobs, func() {
				sh, err := shape(l.Shape, vars(w, s.N))
				if err != nil {
					slot.err = fmt.Errorf("layer %s: %v", l.Name, err)
					return
				}
				slot.r, slot.err = m.get(Point{Config: pl.Config, Shape: sh, Profile: profile})
			})
			cells = append(cells, slot)
		}
		return cells
	}

	type attnPlan struct {
		c     AttnConfig
		cells [][]*cell // [workload][seq]
		alt   [][]*cell
	}
	var aplans []attnPlan
	headline := map[string]bool{x.HeadlineSpec.Baseline: true, x.HeadlineSpec.Proposal: true}
	for _, c := range x.Attention {
		ap := attnPlan{c: c}
		for _, w := range x.Workloads {
			var row, arow []*cell
			for _, s := range x.Seqs {
				row = append(row, attn(c, w, s, prof))
				if alt != "" && headline[c.Name] {
					arow = append(arow, attn(c, w, s, alt))
				}
			}
			ap.cells = append(ap.cells, row)
			ap.alt = append(ap.alt, arow)
		}
		aplans = append(aplans, ap)
	}
	type e2ePlan struct {
		p     Platform
		cells [][][]*cell // [workload][seq][layer]
		alt   [][][]*cell
	}
	var eplans []e2ePlan
	for _, pl := range x.Platforms {
		ep := e2ePlan{p: pl}
		for _, w := range x.Workloads {
			var row, arow [][]*cell
			for _, s := range x.Seqs {
				row = append(row, layers(pl, w, s, prof))
				if alt != "" {
					arow = append(arow, layers(pl, w, s, alt))
				}
			}
			ep.cells = append(ep.cells, row)
			ep.alt = append(ep.alt, arow)
		}
		eplans = append(eplans, ep)
	}
	var pareto [][]*paretoCell // [workload][pe dim]
	if x.Pareto != nil {
		for _, w := range x.Workloads {
			var row []*paretoCell
			for _, p := range x.Pareto.PEDims {
				pc := &paretoCell{}
				jobs = append(jobs, func() { x.Pareto.run(m, x, w, p, prof, pc) })
				row = append(row, pc)
			}
			pareto = append(pareto, row)
		}
	}

	runJobs(jobs, opt)
	out.Points = len(m.m)

	// Assemble.
	units := x.Units
	for _, ap := range aplans {
		build := func(cells [][]*cell) (*Table, error) {
			cols := []string{"model", "seq_len", "traffic", "latency", "energy"}
			kinds := []Kind{Text, Text, Count, Real, Real}
			for _, u := range units {
				cols = append(cols, "util_"+u)
				kinds = append(kinds, Real)
			}
			t := NewTable(ap.c.CSV, cols, kinds, ap.c.Columns)
			for i, w := range x.Workloads {
				for j, s := range x.Seqs {
					c := cells[i][j]
					if c.err != nil {
						return nil, c.err
					}
					r := c.r
					vals := []float64{r.TrafficBytes, r.LatencyS, r.EnergyPJ}
					for _, u := range units {
						vals = append(vals, r.Utilization[u])
					}
					for _, e := range ap.c.Columns {
						v, ok := r.Activity[e]
						if !ok {
							return nil, fmt.Errorf("%s at %s %s: no activity reported for Einsum %s (have %s)", ap.c.Config, w.Name, s.Label, e, strings.Join(sortedKeys(r.Activity), ", "))
						}
						vals = append(vals, v)
					}
					t.Rows = append(t.Rows, Row{Keys: []string{w.Name, s.Label}, Vals: vals})
				}
			}
			return t, nil
		}
		t, err := build(ap.cells)
		out.add(ap.c.CSV, t, err)
		if alt != "" && headline[ap.c.Name] {
			if t, err := build(ap.alt); err == nil {
				out.Alt[ap.c.CSV] = t
			}
		}
	}
	for _, ep := range eplans {
		build := func(cells [][][]*cell) (*Table, error) {
			t := NewTable(ep.p.CSV, []string{"model", "seq_len", "traffic", "latency", "energy"}, []Kind{Text, Text, Count, Real, Real}, nil)
			for i, w := range x.Workloads {
				for j, s := range x.Seqs {
					var traffic, lat, energy float64
					if len(cells[i][j]) == 0 {
						return nil, fmt.Errorf("%s: the experiment lists no end2end layers to sum", ep.p.CSV)
					}
					for _, c := range cells[i][j] {
						if c.err != nil {
							return nil, c.err
						}
						traffic += c.r.TrafficBytes
						lat += c.r.LatencyS
						energy += c.r.EnergyPJ
					}
					t.Rows = append(t.Rows, Row{Keys: []string{w.Name, s.Label}, Vals: []float64{traffic, lat, energy}})
				}
			}
			return t, nil
		}
		t, err := build(ep.cells)
		out.add(ep.p.CSV, t, err)
		if alt != "" {
			if t, err := build(ep.alt); err == nil {
				out.Alt[ep.p.CSV] = t
			}
		}
	}
	if x.Pareto != nil {
		t, err := x.Pareto.table(x, pareto)
		out.add(x.Pareto.CSV, t, err)
	}
	return out, nil
}

func (o *Output) add(file string, t *Table, err error) {
	o.Files = append(o.Files, file)
	if err == nil && len(t.Rows) == 0 {
		err = fmt.Errorf("no design point: the experiment gives this CSV no rows")
	}
	if err != nil {
		o.Failed[file] = err.Error()
		return
	}
	o.Tables[file] = t
}

// runJobs runs jobs on a bounded pool, reporting progress.
func runJobs(jobs []func(), opt Options) {
	n := opt.Workers
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	ch := make(chan func())
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				j()
				if opt.Progress != nil {
					mu.Lock()
					done++
					opt.Progress(done, len(jobs))
					mu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
}

// paretoCell is one (workload, PE dim) point of the sweep, after its buffer
// search.
type paretoCell struct {
	stopped bool // the buffer outgrew the sweep's limit
	r       *Result
	err     error
}

// run evaluates the configuration at PE dimension p, growing the buffer
// multiplier while the While condition holds.
func (pr *Pareto) run(m *memo, x *Experiment, w Workload, p int64, profile string, pc *paretoCell) {
	vars := vars(w, pr.Seq.N)
	vars["p"] = float64(p)
	if pr.Double != "" {
		vars[pr.Double] = 1
	}
	sh := w.Shape(pr.Seq.N)
	for range 64 {
		for _, b := range pr.Vars {
			v, err := eval(b.Expr, vars)
			if err != nil {
				pc.err = fmt.Errorf("pareto var %s: %v", b.Name, err)
				return
			}
			vars[b.Name] = v
		}
		if pr.Stop != "" {
			stop, err := eval(pr.Stop, vars)
			if err != nil {
				pc.err = fmt.Errorf("pareto stop: %v", err)
				return
			}
			if stop != 0 {
				pc.stopped = true
				return
			}
		}
		var sets []string
		for _, b := range pr.Set {
			expr, unit := splitUnit(b.Expr)
			v, err := eval(expr, vars)
			if err != nil {
				pc.err = fmt.Errorf("pareto set %s: %v", b.Name, err)
				return
			}
			sets = append(sets, b.Name+"="+strings.TrimSpace(strconv.FormatFloat(v, 'g', -1, 64)+" "+unit))
			if level, ok := strings.CutSuffix(b.Name, ".capacity"); ok && len(pr.L3Area) > 0 && unit == "B" {
				sets = append(sets, level+".area="+strconv.FormatFloat(interpLogLog(pr.L3Area, v), 'g', -1, 64)+" um2")
			}
		}
		r, err := m.get(Point{Config: pr.Config, Shape: sh, ArchSet: sets, Profile: profile})
		if err != nil {
			pc.err = err
			return
		}
		pc.r = r
		if pr.While == "" || pr.Double == "" {
			return
		}
		for k, v := range pr.resultVars(x, r) {
			vars[k] = v
		}
		again, err := eval(pr.While, vars)
		if err != nil {
			pc.err = fmt.Errorf("pareto while: %v", err)
			return
		}
		if again == 0 {
			return
		}
		vars[pr.Double] *= 2
	}
	pc.err = fmt.Errorf("pareto: %s still holds after 64 doublings of %s", pr.While, pr.Double)
}

// resultVars are the pareto columns of a result, by name: mem_lat,
// comp_<unit>_lat, latency.
func (pr *Pareto) resultVars(x *Experiment, r *Result) map[string]float64 {
	v := map[string]float64{"mem_lat": r.MemoryS, "latency": r.LatencyS, "traffic": r.TrafficBytes}
	for _, u := range x.Units {
		v["comp_"+u+"_lat"] = r.Utilization[u] * r.LatencyS
	}
	return v
}

func (pr *Pareto) table(x *Experiment, cells [][]*paretoCell) (*Table, error) {
	cols := []string{"accel", "model", "PE_dim", "traffic", "mem_lat"}
	kinds := []Kind{Text, Text, Text, Count, Real}
	for _, u := range x.Units {
		cols = append(cols, "comp_"+u+"_lat")
		kinds = append(kinds, Real)
	}
	cols = append(cols, "latency")
	kinds = append(kinds, Real)
	if len(x.Units) > 0 {
		cols = append(cols, "array_"+x.Units[0]+"_area")
		kinds = append(kinds, Real)
	}
	cols = append(cols, "area")
	kinds = append(kinds, Real)
	t := NewTable(pr.CSV, cols, kinds, nil)
	for i, w := range x.Workloads {
		for j, p := range pr.PEDims {
			c := cells[i][j]
			if c.err != nil {
				return nil, c.err
			}
			if c.stopped {
				break
			}
			rv := pr.resultVars(x, c.r)
			vals := []float64{c.r.TrafficBytes, c.r.MemoryS}
			for _, u := range x.Units {
				vals = append(vals, rv["comp_"+u+"_lat"])
			}
			vals = append(vals, c.r.LatencyS)
			if len(x.Units) > 0 {
				vals = append(vals, c.r.AreaParts[x.Units[0]+"/pe"])
			}
			vals = append(vals, c.r.AreaUM2)
			t.Rows = append(t.Rows, Row{Keys: []string{pr.Accel, w.Name, strconv.FormatInt(p, 10)}, Vals: vals})
		}
	}
	return t, nil
}

// splitUnit separates "expr [unit]" into the expression and the unit.
func splitUnit(s string) (expr, unit string) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "]") {
		if i := strings.LastIndexByte(s, '['); i >= 0 {
			return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1 : len(s)-1])
		}
	}
	return s, ""
}

// interpLogLog interpolates y(x) on a log-log scale through increasing
// points, extrapolating from the end segments.
func interpLogLog(pts [][2]float64, x float64) float64 {
	if len(pts) == 1 {
		return pts[0][1]
	}
	i := 1
	for i < len(pts)-1 && x > pts[i][0] {
		i++
	}
	a, b := pts[i-1], pts[i]
	t := (math.Log(x) - math.Log(a[0])) / (math.Log(b[0]) - math.Log(a[0]))
	return math.Exp(math.Log(a[1]) + t*(math.Log(b[1])-math.Log(a[1])))
}
