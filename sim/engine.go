package sim

import (
	"fmt"
	"math"
	"sort"
)

// Options tunes a run.
type Options struct {
	// NoFastForward simulates every iteration; the tests compare it with
	// fast-forwarding.
	NoFastForward bool
}

// Result is what a run measured.
type Result struct {
	Cycles  float64
	Seconds float64
	// Busy is each unit's PE-weighted busy cycles; Utilization is Busy over
	// the run's cycles.
	Busy        map[string]float64
	Utilization map[string]float64
	// Activity is each Einsum's PE-weighted busy cycles over the run's
	// cycles: the share of the run its unit spends on it.
	Activity       map[string]float64
	Actions        map[string]float64
	EnergyPJ       float64
	EnergyByAction map[string]float64
	TrafficBytes   float64
	BufferPeak     map[string]float64 // bytes, per level
	// Issued counts the operation instances actually simulated; Skipped
	// the loop iterations that fast-forwarding stepped over.
	Issued, Skipped int64
}

type event struct {
	t     float64
	level int
	delta float64
	op    int
}

type loopInfo struct {
	units []int // units used anywhere under the loop
	ops   []*Op
	inOp  []bool
	inU   []bool
	desc  []*Loop // the loop and its descendants
	// isDesc marks, by loop id, the loop's strict descendants.
	isDesc []bool
	vecCap int
}

type engine struct {
	s        *Schedule
	opt      Options
	ops      []*Op
	loops    []*Loop
	info     []loopInfo
	free     []float64
	origin   float64
	originLo float64 // Kahan compensation of origin
	last     float64 // latest completion, relative to origin

	acc     []float64 // [busy per unit][einsum activity][actions][bytes]
	einsums []string
	eIdx    map[string]int
	actions []string
	aIdx    map[string]int

	events    []event
	occ, peak []float64
	issued    int64
	skipped   int64
	depLv     map[*Op][][2]int // per op, per dep: consumer level, producer level
	err       error
}

func (e *engine) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// MaxUnforwarded bounds the operation instances a run without
// fast-forward issues one by one: it keeps state per iteration, so its
// time and memory grow with the loop counts (the binding at BERT 64K,
// 5.1e6 instances, takes 12-18 s and 250 MB on the 2-core machine; the
// bound is about a minute and 1 GB).
const MaxUnforwarded = 2e7

// Run executes the schedule.
func Run(s *Schedule, opt Options) (*Result, error) {
	if err := Validate(s); err != nil {
		return nil, err
	}
	if n := instances(s.Root); opt.NoFastForward && n > MaxUnforwarded {
		return nil, fmt.Errorf("without fast-forward the schedule issues %.3g operations one by one, more than %.0g: use a smaller shape, or let it fast-forward", n, float64(MaxUnforwarded))
	}
	ops, loops, err := s.prepare()
	if err != nil {
		return nil, err
	}
	e := &engine{s: s, opt: opt, ops: ops, loops: loops, free: make([]float64, len(s.Units)),
		eIdx: map[string]int{}, aIdx: map[string]int{}, depLv: map[*Op][][2]int{},
		occ: make([]float64, len(s.Levels)), peak: make([]float64, len(s.Levels))}
	for _, o := range ops {
		if o.Einsum != "" {
			if _, ok := e.eIdx[o.Einsum]; !ok {
				e.eIdx[o.Einsum] = len(e.einsums)
				e.einsums = append(e.einsums, o.Einsum)
			}
		}
		keys := make([]string, 0, len(o.Actions))
		for k := range o.Actions {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o.acts, o.actN = nil, nil
		for _, k := range keys {
			if _, ok := s.EnergyPJ[k]; !ok {
				return nil, fmt.Errorf("sim: op %s counts action %q, which has no energy", o.Name, k)
			}
			if _, ok := e.aIdx[k]; !ok {
				e.aIdx[k] = len(e.actions)
				e.actions = append(e.actions, k)
			}
			o.acts = append(o.acts, e.aIdx[k])
			o.actN = append(o.actN, o.Actions[k])
		}
		var lv [][2]int
		for _, d := range o.Deps {
			lv = append(lv, [2]int{level(o, d.Loop), level(d.Op, d.Loop)})
		}
		e.depLv[o] = lv
		for _, h := range append(append([]Hold{}, o.Alloc...), o.Free...) {
			if h.Level < 0 || h.Level >= len(s.Levels) {
				return nil, fmt.Errorf("sim: op %s holds space at level %d of %d", o.Name, h.Level, len(s.Levels))
			}
		}
	}
	e.acc = make([]float64, len(s.Units)+len(e.einsums)+len(e.actions)+1)
	e.info = make([]loopInfo, len(loops))
	for _, l := range loops {
		in := &e.info[l.id]
		in.inOp = make([]bool, len(ops))
		in.inU = make([]bool, len(s.Units))
	}
	for _, o := range ops {
		for _, l := range o.loops {
			in := &e.info[l.id]
			in.ops = append(in.ops, o)
			in.inOp[o.id] = true
			if o.Unit >= 0 && !in.inU[o.Unit] {
				in.inU[o.Unit] = true
				in.units = append(in.units, o.Unit)
			}
		}
	}
	var desc func(l *Loop) []*Loop
	desc = func(l *Loop) []*Loop {
		out := []*Loop{l}
		for _, it := range l.Body {
			if x, ok := it.(*Loop); ok {
				out = append(out, desc(x)...)
			}
		}
		return out
	}
	for _, l := range loops {
		e.info[l.id].desc = desc(l)
		e.info[l.id].isDesc = make([]bool, len(loops))
		for _, d := range e.info[l.id].desc[1:] {
			e.info[l.id].isDesc[d.id] = true
		}
		l.issueCum, l.execStart, l.cur = 0, 0, 0
	}
	e.run(s.Root)
	if e.err != nil {
		return nil, e.err
	}
	e.retire(math.Inf(1))
	return e.result(), nil
}

func (e *engine) run(l *Loop) {
	n := l.Count
	l.execStart = l.issueCum
	var hist []*snapshot
	for k := int64(l.smin); k <= n-1+int64(l.smax); k++ {
		l.cur = l.execStart + k
		for _, it := range l.Body {
			switch x := it.(type) {
			case *Op:
				if i := k - int64(x.Stage); i >= 0 && i < n {
					e.issue(x, i)
				}
			case *Loop:
				if k >= 0 && k < n {
					e.run(x)
				}
			}
		}
		if e.opt.NoFastForward || k < int64(l.smax) || k > n-1+int64(l.smin) {
			continue
		}
		hist = append(hist, e.snapshot(l))
		if len(hist) > 9 {
			hist = hist[1:]
		}
		c := period(hist)
		if c == 0 {
			continue
		}
		margin := int64(c + 2 + l.maxBack + (l.smax - l.smin))
		remaining := (n - 1 + int64(l.smin)) - k - margin
		if remaining < int64(c) {
			continue
		}
		times := remaining / int64(c)
		e.skip(l, times, hist[len(hist)-1-c:])
		k += times * int64(c)
		hist = nil
	}
	l.issueCum = l.execStart + n
}

func (e *engine) issue(o *Op, i int64) {
	e.issued++
	start := math.Inf(-1)
	if o.Unit >= 0 {
		start = e.free[o.Unit]
	}
	lv := e.depLv[o]
	for di, d := range o.Deps {
		j := e.tag(o, lv[di][0]) - int64(d.Back)
		if j < d.Loop.execStart {
			continue
		}
		if j > d.Op.lastTag[lv[di][1]] {
			e.fail(fmt.Errorf("sim: %s waits for an instance of %s that is issued after it (check the stages and dependency distances)", o.Name, d.Op.Name))
			continue
		}
		ring := d.Op.rings[lv[di][1]]
		if st := ring[mod(j, len(ring))]; st.tag == j && st.t > start {
			start = st.t
		}
	}
	if math.IsInf(start, -1) {
		start = e.floor()
	}
	end := start + o.Cycles
	done := end + o.Latency
	if o.Unit >= 0 {
		e.free[o.Unit] = end
		e.acc[o.Unit] += o.Cycles * o.PEFrac
		if e.s.Units[o.Unit].Memory {
			e.acc[len(e.acc)-1] += o.Bytes
		}
	}
	if o.Einsum != "" {
		e.acc[len(e.s.Units)+e.eIdx[o.Einsum]] += o.Cycles * o.PEFrac
	}
	base := len(e.s.Units) + len(e.einsums)
	for ai, a := range o.acts {
		e.acc[base+a] += o.actN[ai]
	}
	for lvl := range o.loops {
		t := e.tag(o, lvl)
		r := o.rings[lvl]
		slot := &r[mod(t, len(r))]
		if slot.tag != t || done > slot.t {
			*slot = stamp{t, done}
		}
		o.lastTag[lvl] = t
	}
	last := o.parent.Count - 1
	for _, h := range o.Alloc {
		if h.When == Every || (h.When == First && i == 0) || (h.When == Last && i == last) {
			e.events = append(e.events, event{start, h.Level, h.Bytes, o.id})
		}
	}
	for _, h := range o.Free {
		if h.When == Every || (h.When == First && i == 0) || (h.When == Last && i == last) {
			e.events = append(e.events, event{done, h.Level, -h.Bytes, o.id})
		}
	}
	if done > e.last {
		e.last = done
	}
}

// tag is the cumulative logical iteration, at loop level lv, of the
// instance of o being issued.
func (e *engine) tag(o *Op, lv int) int64 {
	l := o.loops[lv]
	if lv == len(o.loops)-1 {
		return l.cur - int64(o.Stage)
	}
	return l.cur
}

func mod(a int64, n int) int {
	m := int(a % int64(n))
	if m < 0 {
		m += n
	}
	return m
}

// floor is the earliest time any future operation can start.
func (e *engine) floor() float64 {
	f := math.Inf(1)
	for _, t := range e.free {
		f = math.Min(f, t)
	}
	if math.IsInf(f, 1) {
		return 0
	}
	return f
}

// retire applies buffer events up to time t in time order (frees first at
// equal times, so a freed buffer can be refilled at once) and tracks peaks.
func (e *engine) retire(t float64) {
	sort.SliceStable(e.events, func(i, j int) bool {
		a, b := e.events[i], e.events[j]
		if a.t != b.t {
			return a.t < b.t
		}
		return a.delta < b.delta
	})
	k := 0
	for ; k < len(e.events) && e.events[k].t <= t; k++ {
		ev := e.events[k]
		e.occ[ev.level] += ev.delta
		if e.occ[ev.level] > e.peak[ev.level] {
			e.peak[ev.level] = e.occ[ev.level]
		}
	}
	e.events = append(e.events[:0], e.events[k:]...)
}

func (e *engine) result() *Result {
	r := &Result{Cycles: (e.origin - e.originLo) + e.last, Busy: map[string]float64{}, Utilization: map[string]float64{},
		Activity: map[string]float64{}, Actions: map[string]float64{}, EnergyByAction: map[string]float64{},
		BufferPeak: map[string]float64{}, Issued: e.issued, Skipped: e.skipped}
	r.Seconds = r.Cycles / e.s.ClockHz
	for i, u := range e.s.Units {
		r.Busy[u.Name] = e.acc[i]
		if r.Cycles > 0 {
			r.Utilization[u.Name] = e.acc[i] / r.Cycles
		}
	}
	for i, name := range e.einsums {
		if r.Cycles > 0 {
			r.Activity[name] = e.acc[len(e.s.Units)+i] / r.Cycles
		}
	}
	base := len(e.s.Units) + len(e.einsums)
	for i, a := range e.actions {
		n := e.acc[base+i]
		r.Actions[a] = n
		r.EnergyByAction[a] = n * e.s.EnergyPJ[a]
	}
	for _, a := range e.actions { // in sorted order, so the sum is reproducible
		r.EnergyPJ += r.EnergyByAction[a]
	}
	r.TrafficBytes = e.acc[len(e.acc)-1]
	for i, l := range e.s.Levels {
		r.BufferPeak[l] = e.peak[i]
	}
	return r
}

// instances counts the operation instances loop l issues.
func instances(l *Loop) float64 {
	var body float64
	for _, it := range l.Body {
		switch x := it.(type) {
		case *Op:
			body++
		case *Loop:
			body += instances(x)
		}
	}
	return float64(l.Count) * body
}
