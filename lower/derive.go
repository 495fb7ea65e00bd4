package lower

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
)

// Objectives a mapping search minimises (Options.Objective).
const (
	ObjectiveEDP     = "edp" // energy × latency (the default)
	ObjectiveLatency = "latency"
	ObjectiveEnergy  = "energy"
)

// Objectives lists the search objectives.
func Objectives() []string { return []string{ObjectiveEDP, ObjectiveLatency, ObjectiveEnergy} }

// cost is the objective's value for a report (smaller is better).
func cost(objective string, r *Report) float64 {
	switch objective {
	case ObjectiveLatency:
		return r.LatencyS
	case ObjectiveEnergy:
		return r.EnergyPJ
	}
	return r.EnergyPJ * r.LatencyS
}

// maxTileCandidates bounds the query-group sizes a derived mapping tries.
const maxTileCandidates = 8

// DeriveMapping writes a mapping for cascade c on machine a at shape, for
// when the user gives none, and returns its text (a mapping spec with a
// search section, which Simulate resolves) parsed.
//
// Every Einsum is bound by cost: each is lowered on every unit that can
// run or build its operations, and the Einsums, costliest first, go to the
// unit whose load grows least (longest-processing-time list scheduling,
// which keeps the units busy side by side). Sizes the machine fixes are
// derived from it (a split rank's inner part is the array's height), the
// largest rank of the outputs is tiled in groups (searched: the whole
// rank, then fractions down to the arrays' width, at most
// maxTileCandidates), tensors that pass between units or iterations live
// in the global buffer, and the search also tries keeping the large
// intermediates off chip and, as a last resort, spilling what overflows the
// global buffer (its physical share, counted as DRAM traffic). Everything is deterministic: same inputs, same
// mapping.
func DeriveMapping(c *einsum.Cascade, a *arch.Spec, shape map[string]int64) (*Mapping, string, error) {
	d := &deriver{c: c, a: a, shape: shape}
	if err := d.sizes(); err != nil {
		return nil, "", err
	}
	if err := d.bind(); err != nil {
		return nil, "", err
	}
	text := d.text()
	m, err := ParseMapping("derived mapping", []byte(text), shape, nil)
	if err != nil {
		return nil, "", fmt.Errorf("derived mapping: %v\n%s", err, text)
	}
	m.Derived = true
	return m, text, nil
}

type deriver struct {
	c        *einsum.Cascade
	a        *arch.Spec
	shape    map[string]int64
	fixed    map[string]int64 // sizes the machine fixes (M0)
	all      map[string]int64 // every rank size
	tiled    string           // the rank grouped by the DRAM loop ("" for none)
	second   string           // the 2D arrays' second spatial rank
	units    map[string]string
	order    []string // Einsums that do work, in cascade order, once each
	instance []string
}

// height is the largest array dimension: the extent a split rank's inner
// part takes so that one tile fills the array.
func (d *deriver) height() int64 {
	h := int64(1)
	for _, ar := range d.a.Arrays {
		h = max(h, slices.Max(ar.Dims))
	}
	return h
}

func (d *deriver) sizes() error {
	d.fixed = map[string]int64{}
	shape := map[string]int64{}
	for k, v := range d.shape {
		shape[k] = v
	}
	for _, r := range d.c.Ranks {
		if len(r.Parts) != 2 {
			continue
		}
		whole, ok := shape[r.Name]
		_, o1 := shape[r.Parts[0].Name]
		_, o2 := shape[r.Parts[1].Name]
		if !ok || o1 || o2 {
			continue
		}
		in := largestDivisorAtMost(whole, d.height())
		d.fixed[r.Parts[1].Name] = in
		shape[r.Parts[1].Name] = in
	}
	all, unused, err := d.c.Bind(shape)
	if err != nil {
		return err
	}
	d.all = all
	d.instance = unused
	// The tiled rank: the largest that indexes every output and is no
	// split part; the second spatial rank: a split rank's inner part, else
	// the largest other rank.
	for _, r := range d.c.Ranks {
		if r.Parent != nil || len(r.Parts) > 0 || !indexesOutputs(d.c, r) || iterates(d.c, r) {
			continue // an iterate block walks it already
		}
		if d.tiled == "" || all[r.Name] > all[d.tiled] {
			d.tiled = r.Name
		}
	}
	for _, r := range d.c.Ranks {
		if r.Parent != nil && r == r.Parent.Parts[len(r.Parent.Parts)-1] {
			d.second = r.Name
		}
	}
	if d.second == "" {
		for _, r := range d.c.Ranks {
			if r.Name != d.tiled && len(r.Parts) == 0 && (d.second == "" || all[r.Name] > all[d.second]) {
				d.second = r.Name
			}
		}
	}
	return nil
}

func iterates(c *einsum.Cascade, r *einsum.Rank) bool {
	for _, l := range c.Loops {
		if l.Var == r {
			return true
		}
	}
	return false
}

func largestDivisorAtMost(n, cap int64) int64 {
	for d := min(n, cap); d > 1; d-- {
		if n%d == 0 {
			return d
		}
	}
	return 1
}

func indexesOutputs(c *einsum.Cascade, r *einsum.Rank) bool {
	if len(c.Outputs) == 0 {
		return false
	}
	for _, t := range c.Outputs {
		found := false
		for _, dm := range t.Dims {
			found = found || dm.Rank == r
		}
		if !found {
			return false
		}
	}
	return true
}

// bind assigns every Einsum that does work a unit, by cost.
func (d *deriver) bind() error {
	costs, err := d.unitCosts()
	if err != nil {
		return err
	}
	type job struct {
		name string
		best float64
	}
	var jobs []job
	for _, n := range d.order {
		best := -1.0
		for _, c := range costs[n] {
			if c >= 0 && (best < 0 || c < best) {
				best = c
			}
		}
		jobs = append(jobs, job{n, best})
	}
	slices.SortStableFunc(jobs, func(x, y job) int {
		switch {
		case x.best > y.best:
			return -1
		case x.best < y.best:
			return 1
		}
		return 0
	})
	load := make([]float64, len(d.a.Arrays))
	d.units = map[string]string{}
	for _, j := range jobs {
		pick := -1
		for u, c := range costs[j.name] {
			if c < 0 {
				continue
			}
			if pick < 0 || load[u]+c < load[pick]+costs[j.name][pick] {
				pick = u
			}
		}
		load[pick] += costs[j.name][pick]
		d.units[j.name] = d.a.Arrays[pick].Name
	}
	return nil
}

// unitCosts is, per Einsum, the cycles it takes on each unit (-1 where
// the unit can neither run nor build its operations), from a lowering
// with every Einsum that can on that unit.
func (d *deriver) unitCosts() (map[string][]float64, error) {
	costs := map[string][]float64{}
	first := map[string]string{} // a unit that can run each Einsum
	d.order = nil
	ops := map[string]map[string]int64{} // every statement's operations, per Einsum name
	for _, e := range d.c.Einsums {
		if !doesWork(e) {
			continue
		}
		if _, seen := costs[e.Name()]; !seen {
			d.order = append(d.order, e.Name())
			costs[e.Name()] = make([]float64, len(d.a.Arrays))
			ops[e.Name()] = map[string]int64{}
		}
		for op, n := range pointOps(e) {
			ops[e.Name()][op] += n
		}
	}
	for _, n := range d.order {
		for u, ar := range d.a.Arrays {
			if !canRun(ar, ops[n]) {
				costs[n][u] = -1
			} else if first[n] == "" {
				first[n] = ar.Name
			}
		}
	}
	for _, n := range d.order {
		if first[n] == "" {
			return nil, d.noUnit(n)
		}
	}
	for u, ar := range d.a.Arrays {
		units := map[string]string{}
		for _, n := range d.order {
			units[n] = first[n]
			if costs[n][u] >= 0 {
				units[n] = ar.Name
			}
		}
		d.units = units
		// Compute cycles do not depend on where data live: the smallest
		// groups, with capacity not enforced (a spill fraction), cost every
		// Einsum even where the final placement would not fit.
		text := d.textWith(d.tileValues()[len(d.tileValues())-1], false) + "spill: 0.5\n"
		m, err := ParseMapping("derived mapping", []byte(text), d.shape, nil)
		if err != nil {
			return nil, err
		}
		plan, err := Lower(d.c, d.a, m, d.shape, Options{})
		if err != nil {
			return nil, fmt.Errorf("derived mapping: costing unit %s: %v", ar.Name, err)
		}
		for _, e := range plan.Einsums {
			if costs[e.Name][u] >= 0 {
				costs[e.Name][u] = e.Cycles * float64(e.Instances)
			}
		}
	}
	return costs, nil
}

// noUnit is the error for an Einsum no unit of the machine can run.
func (d *deriver) noUnit(name string) error {
	for _, e := range d.c.Einsums {
		if e.Name() != name {
			continue
		}
		for _, op := range sortedKeys(pointOps(e)) {
			can := false
			for _, ar := range d.a.Arrays {
				_, ok := ar.PE.Expand(op)
				can = can || ok
			}
			if !can {
				return fmt.Errorf("%s: Einsum %s needs %s, which no unit of %s can run or build from its operations", e.Pos, name, op, d.a.Name)
			}
		}
	}
	return fmt.Errorf("Einsum %s: no unit of %s can run it", name, d.a.Name)
}

func canRun(ar *arch.Array, ops map[string]int64) bool {
	for op := range ops {
		if _, ok := ar.PE.Expand(op); !ok {
			return false
		}
	}
	return true
}

// doesWork mirrors classify: seeds and plain copies (views) do no work.
func doesWork(e *einsum.Einsum) bool {
	if len(e.Reads()) == 0 {
		return false
	}
	_, copy := e.Expr.(*einsum.Read)
	return !copy || len(e.Reductions) > 0
}

// tileValues are the group sizes tried for the tiled rank, largest first:
// the whole rank, then halves while they stay multiples of the arrays'
// width and divide the rank.
func (d *deriver) tileValues() []int64 {
	if d.tiled == "" {
		return []int64{0}
	}
	n := d.all[d.tiled]
	w := int64(1)
	for _, ar := range d.a.Arrays {
		w = max(w, ar.Dims[len(ar.Dims)-1])
	}
	// The step doubles until maxTileCandidates values reach down to the
	// width: a long rank (1M queries) is tried in groups of a few hundred
	// too, not only in halves of the whole.
	step := int64(2)
	for span := n / w; step < span && pow(step, maxTileCandidates-1) < span; step *= 2 {
	}
	out := []int64{n}
	for t := n / step; len(out) < maxTileCandidates && t >= w && t%w == 0 && n%t == 0; t /= step {
		out = append(out, t)
	}
	return out
}

// pow is b**e, saturating instead of overflowing.
func pow(b int64, e int) int64 {
	p := int64(1)
	for ; e > 0 && p < 1<<40; e-- {
		p *= b
	}
	return p
}

func (d *deriver) text() string { return d.textWith(0, true) }

// textWith writes the mapping: with search, the tile sizes and off-chip
// choices to try; without, group size tile (0: the whole rank).
func (d *deriver) textWith(tile int64, search bool) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Derived by fusemax for cascade %s on %s: every Einsum bound by cost,\n", d.c.Name, d.a.Name)
	w("# group sizes and off-chip intermediates searched. Save it (--emit-mapping) to edit.\n")
	w("name: derived\nkernel: %s\n", d.c.Name)
	if len(d.instance) > 0 {
		w("instances: [%s]\n", strings.Join(d.instance, ", "))
	}
	if len(d.fixed) > 0 {
		w("sizes: {%s}\n", d.kv(d.fixed))
	}
	if d.tiled != "" {
		t := tile
		if t == 0 {
			t = d.all[d.tiled]
		}
		w("tile: {%s: %d}\n", d.tiled, t)
	}
	onchip, big := d.placement()
	w("placement: {onchip: [%s], offchip: [%s]}\n", strings.Join(onchip, ", "), strings.Join(d.ioNames(), ", "))
	w("buffers: 2\nprefetch: 1\nwriteback: 1\n")
	w("units:\n")
	for _, ar := range d.a.Arrays {
		sp := []string{}
		if d.tiled != "" {
			sp = append(sp, d.tiled)
		}
		if len(ar.Dims) == 2 && d.second != "" {
			sp = append(sp, d.second)
		}
		w("  %s: {spatial: [%s]}\n", ar.Name, strings.Join(sp, ", "))
	}
	w("einsums:\n")
	for _, n := range d.order {
		w("  %s: %s\n", n, d.units[n])
	}
	if search {
		var axes []string
		if vals := d.tileValues(); d.tiled != "" && len(vals) > 1 {
			s := make([]string, len(vals))
			for i, v := range vals {
				s[i] = fmt.Sprint(v)
			}
			axes = append(axes, fmt.Sprintf("  tile.%s: [%s]\n", d.tiled, strings.Join(s, ", ")))
		}
		if len(big) > 0 {
			// The large tensors' groups may not fit the global buffer: also
			// try streaming them (inputs from DRAM, intermediates through it).
			io := d.ioNames()
			var small, spilled []string
			for _, n := range onchip {
				if !slices.Contains(big, n) {
					small = append(small, n)
				} else if !slices.Contains(io, n) {
					spilled = append(spilled, n)
				}
			}
			axes = append(axes, fmt.Sprintf("  placement:\n    - {onchip: [%s], offchip: [%s]}\n    - {onchip: [%s], offchip: [%s]}\n",
				strings.Join(onchip, ", "), strings.Join(io, ", "), strings.Join(small, ", "), strings.Join(append(io, spilled...), ", ")))
		}
		// Last resort where nothing fits: the state over the global
		// buffer's capacity spills, its share of accesses the physical
		// overflow (1 - capacity/state), counted as DRAM traffic. spill_at
		// at the capacity means no spill (the state must fit); one no state
		// reaches means the overflow follows the capacity (place.go).
		axes = append(axes, fmt.Sprintf("  spill_at: [%s, 1 EiB]\n", exactBytes(int64(globalBuffer(d.a).CapacityBytes))))
		if len(axes) > 0 {
			w("search:                        # every combination is tried; the --objective's least wins\n")
			for _, x := range axes {
				w("%s", x)
			}
		}
	}
	return b.String()
}

func (d *deriver) kv(m map[string]int64) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func (d *deriver) ioNames() []string {
	var out []string
	for _, t := range append(append([]*einsum.Tensor{}, d.c.Inputs...), d.c.Outputs...) {
		out = append(out, t.Name)
	}
	return out
}

// placement lists the tensors the global buffer holds: the inputs and
// their views (reused across a group's tiles), and intermediates that
// pass between units, between iterations (state) or out of the iterate
// block; an intermediate passed on the same unit stays in registers. big
// are those whose size grows with the tiled rank and another rank (QK of
// the 3-pass cascade, K of a long sequence), which the search may stream
// instead.
func (d *deriver) placement() (onchip, big []string) {
	for _, t := range d.c.Tensors {
		if t.Kind == einsum.Output {
			continue
		}
		if t.Kind == einsum.Input || d.passes(t) {
			onchip = append(onchip, t.Name)
			if d.large(t) {
				big = append(big, t.Name)
			}
		}
	}
	return onchip, big
}

// passes reports whether an intermediate crosses units, iterations or
// its iterate block, or is a view of an input.
func (d *deriver) passes(t *einsum.Tensor) bool {
	var writer *einsum.Einsum
	for _, e := range t.Defs {
		writer = e
	}
	if writer == nil {
		return false
	}
	if !doesWork(writer) {
		return true // a view (BK of K) or a seed of a state
	}
	for _, e := range d.c.Einsums {
		for _, r := range e.Reads() {
			if r.Tensor != t {
				continue
			}
			if d.units[e.Name()] != d.units[writer.Name()] || e.Loop != writer.Loop || e.Loop != nil && distance(e.Loop.Var, writer.Output, r) > 0 {
				return true
			}
		}
	}
	return false
}

// large reports whether t spans the tiled rank and another rank of more
// than the arrays' height: what a group keeps of it grows with the
// problem.
func (d *deriver) large(t *einsum.Tensor) bool {
	tiled, other := false, false
	for _, dm := range t.Dims {
		switch {
		case dm.Rank.Name == d.tiled:
			tiled = true
		case d.all[dm.Rank.Name] > d.height():
			other = true
		}
	}
	return tiled && other
}

// exactBytes writes n bytes in the largest binary unit that divides it
// (32 MiB, 1536 KiB, 100 B), as the mapping's YAML reads it back exactly.
func exactBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	u := 0
	for u+1 < len(units) && n != 0 && n%1024 == 0 {
		n /= 1024
		u++
	}
	return fmt.Sprintf("%d %s", n, units[u])
}
