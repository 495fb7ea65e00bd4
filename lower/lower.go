package lower

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/sim"
)

// Options tunes the lowering.
type Options struct {
	// PipelineLatency charges every tile operation on a 2D array the
	// fill and drain of its systolic wavefront (rows+cols-2 cycles), which
	// the paper's ideal-throughput model leaves out: dependents wait for it,
	// the array does not.
	PipelineLatency bool
	// EnergyProfile names the energy accounting: ProfilePhysical (the
	// default, "") charges every PE's register-file accesses;
	// ProfileFuseMaxMicro24 is the FuseMax artifact's accounting, which
	// charges each array one PE's register-file accesses, as Timeloop's
	// per-instance statistics give them (MODEL.md §9.1, §13), and the
	// global-buffer reads Timeloop adds on large problems when its 64-bit
	// partition sizes wrap (§9.6, nest.partitionWrap). The artifact's
	// other quirks are data: a configuration's profile_set (e.g. +Cascade's
	// uncharged exponentials), and the DRAM reads≠updates guard, which its
	// traffic obeys too and so applies under both.
	EnergyProfile string
	// Objective is what a mapping search minimises: ObjectiveEDP (the
	// default, ""), ObjectiveLatency or ObjectiveEnergy.
	Objective string
	// PrintSchedule fills Report.Program with the lowered program
	// (FormatPlan), for `simulate --print-schedule`.
	PrintSchedule bool
	// NoteUnusedShape warns of shape names neither the cascade nor the
	// mapping uses (a typed --shape; a built-in workload names more sizes
	// than any one kernel uses).
	NoteUnusedShape bool
	// Selections are what is known of the tensors data-dependent filters
	// read, by name (datamask.go): their values or a declared density.
	Selections map[string]Selection
}

// The energy accounting profiles of Options.EnergyProfile.
const (
	ProfilePhysical       = "physical"
	ProfileFuseMaxMicro24 = "fusemax-micro24"
)

// Profiles lists the energy accounting profiles.
func Profiles() []string { return []string{ProfilePhysical, ProfileFuseMaxMicro24} }

func knownProfile(p string) bool { return p == ProfilePhysical || p == ProfileFuseMaxMicro24 }

// Plan is a lowered design point: the schedule and what the lowering
// decided on the way.
type Plan struct {
	Schedule *sim.Schedule
	Sizes    map[string]int64 // every size used: shape, machine-fixed and derived
	Derived  map[string]int64 // values computed from capacities (P1)
	Groups   int64            // iterations of the outer DRAM loop
	Variant  string           // the mapping variant applied, if any
	Einsums  []EinsumPlan
	// Warnings are what the lowering noticed and did not refuse (unused
	// shape names, mapping entries a cascade has no use for).
	Warnings []string
	// Selections says how each tensor a data-dependent filter reads was
	// costed: from its values, a declared density, or assumed dense.
	Selections []SelectionUse
	// TrafficSkipped is the DRAM traffic (bytes) that masked tiles leave
	// untransferred: K/V tiles no query of a group needs.
	TrafficSkipped float64
	// L3Need is the global-buffer state the mapping keeps, per on-chip level.
	Need map[string]float64
}

// EinsumPlan summarises how one Einsum was lowered.
type EinsumPlan struct {
	Name      string
	Unit      string
	Ops       map[string]int64 // primitive operations per point
	Instances int64            // tile operations
	Cycles    float64          // per tile operation
	PEFrac    float64
	Spatial   string
	Class     string `json:"class"`              // its operation class (ClassOf)
	BoundBy   string `json:"bound_by,omitempty"` // the mapping entry that bound it
	// Masked says its points are masked (its own filter or a tensor it
	// reads); Useful is then the share of its points that are defined.
	Masked bool    `json:"masked,omitempty"`
	Useful float64 `json:"useful_fraction"`
	// Tiles is the cells of the skip grid (tiled ranks in spatial blocks ×
	// iterations), TilesSkipped those in which it does no work, and
	// WorkShare the share of its tile operations' work it does.
	// Nest is its loop nest per level, outermost first (FormatPlan).
	Nest         string  `json:"nest"`
	Tiles        int64   `json:"tiles"`
	TilesSkipped int64   `json:"tiles_skipped"`
	WorkShare    float64 `json:"work_share"`
}

// access is one tensor reference of an Einsum (a read or the output).
type access struct {
	acc     *einsum.Access
	tensor  *einsum.Tensor // after resolving views to their source
	name    string         // the tensor's own name (BK, not K)
	output  bool
	rel     map[string]bool
	keepers []int
	dram    bool
	l3      bool
	spill   bool // on-chip copy whose accesses overflow to DRAM by Mapping.Spill
	cnt     counts
	foot    float64 // words held at L3 (0 when not kept there)
}

type eplan struct {
	e        *einsum.Einsum
	m        *EinsumMap
	unit     int
	array    *arch.Array
	nest     *nest
	acc      []*access
	prims    map[string]int64
	abstract map[string]int64
	nInst    int64
	inLoop   bool
	stage    int
	boundBy  string // the mapping entry that bound it
	spatial  []string
	op       *sim.Op
}

type lowering struct {
	c       *einsum.Cascade
	a       *arch.Spec
	m       *Mapping
	shape   map[string]int64
	sizes   map[string]int64
	derived map[string]int64
	tile    map[string]int64 // rank → extent per group
	groups  []nloop          // the outer DRAM loops shared by every Einsum
	alias   map[string]*einsum.Tensor
	ops     []*eplan
	opOf    map[*einsum.Einsum]*eplan
	offchip map[string]bool
	onchip  map[string]bool
	word    float64
	opt     Options
	skip    map[*eplan]*skipShare // nil: nothing is masked
	sels    map[*einsum.Tensor]*selData
	selUses []SelectionUse // how each selection tensor was costed, in order met
	// skippedBytes is the DRAM traffic masked tiles leave untransferred.
	skippedBytes float64
	spill        float64 // the share of on-chip accesses that overflow to DRAM
	// warnings are what the lowering noticed but did not refuse: shape
	// names nothing uses, mapping entries for Einsums a cascade lacks.
	warnings []string
}

func (lw *lowering) warn(format string, args ...any) {
	lw.warnings = append(lw.warnings, fmt.Sprintf(format, args...))
}

// noteUnusedShape warns of shape names that are neither a rank of the
// cascade nor an instance rank of the mapping (eval notes them the same
// way), naming the rank a case slip probably meant: m0=128 with a mapping
// that fixes M0=256 would otherwise run at 256 without a word.
func (lw *lowering) noteUnusedShape(unused []string) {
	for _, n := range unused {
		if _, given := lw.shape[n]; !given || contains(lw.m.Instances, n) {
			continue // a size the mapping fixes for a rank this cascade lacks
		}
		known := append(sortedKeys(lw.m.Sizes), lw.m.Instances...)
		for _, r := range lw.c.Ranks {
			known = append(known, r.Name)
		}
		hint := ""
		for _, k := range known {
			if strings.EqualFold(k, n) {
				hint = fmt.Sprintf(" (rank names are case-sensitive: did you mean %s?)", k)
			}
		}
		lw.warn("--shape %s=%d: cascade %s has no rank %s and the mapping no instance rank of that name; ignored%s", n, lw.shape[n], lw.c.Name, n, hint)
	}
}

// Lower maps cascade c onto machine a under mapping m for one workload
// shape (rank sizes; sizes the cascade does not name, such as B and H,
// count independent instances when the mapping lists them).
func Lower(c *einsum.Cascade, a *arch.Spec, m *Mapping, shape map[string]int64, opt Options) (*Plan, error) {
	if opt.EnergyProfile != "" && !knownProfile(opt.EnergyProfile) {
		return nil, fmt.Errorf("unknown energy profile %q (known: %s)", opt.EnergyProfile, strings.Join(Profiles(), ", "))
	}
	lw := &lowering{c: c, a: a, m: m, shape: shape, derived: map[string]int64{}, word: a.WordBytes, opt: opt}
	if len(a.Memories) < 2 {
		return nil, fmt.Errorf("%s: the mapping needs an off-chip level and a global buffer", a.File)
	}
	if err := lw.bindSizes(); err != nil {
		return nil, err
	}
	if err := lw.classify(); err != nil {
		return nil, err
	}
	// Derived values: the largest divisor whose state fits.
	for _, d := range m.Derive {
		v, err := lw.eval(d.DivisorOf, "derive."+d.Name+".divisor_of")
		if err != nil {
			return nil, err
		}
		n, err := asCount(v, d.DivisorOf)
		if err == nil && n > 1<<40 {
			err = fmt.Errorf("%q is %d, too many divisors to search (at most 2^40)", d.DivisorOf, n)
		}
		if err != nil {
			return nil, m.errorAt("derive."+d.Name+".divisor_of", false, "derive.%s.divisor_of: %v", d.Name, err)
		}
		lv := a.Memory(d.Fits)
		if lv == nil || lv.CapacityBytes == 0 {
			return nil, m.errorAt("derive."+d.Name+".fits", false, "derive.%s.fits names %q, which is not an on-chip level of %s (name one of: %s)", d.Name, d.Fits, a.Name, strings.Join(onchipLevels(a), ", "))
		}
		// The state grows with the divisor, so the largest one that fits is
		// found by bisection over the sorted divisors.
		cands := divisors(n)
		fits := func(i int) (bool, float64, error) {
			lw.derived[d.Name] = cands[i]
			if err := lw.build(); err != nil {
				return false, 0, err
			}
			need := lw.need()
			return need <= lv.CapacityBytes, need, nil
		}
		ok, smallest, err := fits(0)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, m.noneFits(d, smallest, lv)
		}
		lo, hi := 0, len(cands)-1 // cands[lo] fits
		for lo < hi {
			mid := (lo + hi + 1) / 2
			ok, _, err := fits(mid)
			if err != nil {
				return nil, err
			}
			if ok {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		best := cands[lo]
		lw.derived[d.Name] = best
	}
	if err := lw.build(); err != nil {
		return nil, err
	}
	// A mapping that declares no spill must fit: what overflows the global
	// buffer would otherwise be counted as on-chip accesses for free.
	if err := lw.capacity(); err != nil {
		return nil, err
	}
	lw.sels = map[*einsum.Tensor]*selData{}
	var err error
	if lw.skip, err = lw.skipShares(); err != nil {
		return nil, err
	}
	plan, err := lw.schedule(opt)
	if plan != nil {
		plan.Selections, plan.TrafficSkipped = lw.selUses, lw.skippedBytes
	}
	return plan, err
}

func divisors(n int64) []int64 {
	var out []int64
	for d := int64(1); d*d <= n; d++ {
		if n%d == 0 {
			out = append(out, d)
			if d*d != n {
				out = append(out, n/d)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// lookup resolves a name in a size expression.
func (lw *lowering) lookup(name string) (float64, bool) {
	if v, ok := lw.derived[name]; ok {
		return float64(v), true
	}
	if v, ok := lw.sizes[name]; ok {
		return float64(v), true
	}
	if v, ok := lw.shape[name]; ok {
		return float64(v), true
	}
	if i := strings.Index(name, "."); i > 0 {
		obj, field := name[:i], name[i+1:]
		if ar := lw.a.Array(obj); ar != nil {
			switch {
			case field == "rows" && len(ar.Dims) == 2:
				return float64(ar.Dims[0]), true
			case field == "cols" && len(ar.Dims) == 2:
				return float64(ar.Dims[1]), true
			case field == "length" && len(ar.Dims) == 1:
				return float64(ar.Dims[0]), true
			case field == "pes":
				return float64(ar.PEs()), true
			}
		}
		if mem := lw.a.Memory(obj); mem != nil {
			switch field {
			case "capacity":
				return mem.CapacityBytes, true
			case "width":
				return mem.WidthBytes, true
			}
		}
	}
	return 0, false
}

func (lw *lowering) eval(src, where string) (float64, error) {
	v, err := evalSize(src, lw.lookup)
	if err != nil {
		return 0, lw.m.exprError(where, lw.knownNames(err))
	}
	return v, nil
}

func (lw *lowering) bindSizes() error {
	shape := map[string]int64{}
	for k, v := range lw.shape {
		shape[k] = v
	}
	lw.sizes = shape
	for _, k := range sortedKeys(lw.m.Sizes) {
		if _, ok := shape[k]; ok {
			continue // the user's shape wins over the machine's default
		}
		v, err := lw.eval(lw.m.Sizes[k], "sizes."+k)
		if err != nil {
			return err
		}
		n, err := asCount(v, lw.m.Sizes[k])
		if err != nil {
			return lw.m.errorAt("sizes."+k, false, "sizes.%s: %v", k, err)
		}
		shape[k] = n
	}
	sizes, unused, err := lw.c.Bind(shape)
	if err != nil {
		return lw.bindError(err)
	}
	if lw.opt.NoteUnusedShape {
		lw.noteUnusedShape(unused)
	}
	for k, v := range sizes {
		lw.sizes[k] = v
	}
	for _, r := range lw.m.Instances {
		if lw.c.Rank(r) != nil {
			return lw.m.errorAt("instances."+r, false, "instances: %s is a rank of cascade %s, not an independent copy (drop it from instances; the cascade iterates it)", r, lw.c.Name)
		}
	}
	return nil
}

// classify finds the Einsums that do work: a seed (no reads) initialises
// state, and a plain copy (BK = K[...]) is a view of its source, not an
// operation.
func (lw *lowering) classify() error {
	lw.alias = map[string]*einsum.Tensor{}
	lw.opOf = map[*einsum.Einsum]*eplan{}
	named := map[string]bool{}
	for _, e := range lw.c.Einsums {
		reads := e.Reads()
		if len(reads) == 0 {
			continue
		}
		if r, ok := e.Expr.(*einsum.Read); ok && len(e.Reductions) == 0 {
			src := r.Access.Tensor
			if s, ok := lw.alias[src.Name]; ok {
				src = s
			}
			lw.alias[e.Name()] = src
			continue
		}
		em, where, ok := lw.m.binding(e)
		if !ok {
			return lw.unbound(e)
		}
		named[e.Name()] = true
		p := &eplan{e: e, m: em, boundBy: where, inLoop: e.Loop != nil, stage: lw.m.Stages[e.Name()]}
		lw.ops = append(lw.ops, p)
		lw.opOf[e] = p
	}
	for _, k := range sortedKeys(lw.m.Einsums) {
		if !named[k] {
			if err := lw.lacking(lw.m.Pos(k)+": einsums."+k, "cascade %s has no Einsum %s that does work", lw.c.Name, k); err != nil {
				return err
			}
		}
	}
	for _, kv := range []struct {
		what  string
		keyed map[string]int
	}{{"stages", lw.m.Stages}, {"phases", lw.m.Phases}} {
		what, keyed := kv.what, kv.keyed
		for _, k := range sortedKeys(keyed) {
			if !named[k] {
				if err := lw.lacking(lw.m.File+": "+what+"."+k, "cascade %s has no Einsum %s that does work", lw.c.Name, k); err != nil {
					return err
				}
			}
		}
	}
	lw.offchip, lw.onchip = map[string]bool{}, map[string]bool{}
	if lw.m.Offchip == nil {
		for _, t := range append(append([]*einsum.Tensor{}, lw.c.Inputs...), lw.c.Outputs...) {
			lw.offchip[t.Name] = true
		}
	}
	for _, list := range []struct {
		names []string
		into  map[string]bool
		what  string
	}{{lw.m.Offchip, lw.offchip, "offchip"}, {lw.m.Onchip, lw.onchip, "onchip"}} {
		for _, n := range list.names {
			if lw.c.Tensor(n) == nil {
				if err := lw.lacking(lw.m.File+": "+list.what, "cascade %s has no tensor %s", lw.c.Name, n); err != nil {
					return err
				}
				continue
			}
			list.into[n] = true
		}
	}
	for _, p := range lw.ops {
		for _, list := range [][]string{p.m.Keep, p.m.Staged, p.m.Registers} {
			for _, n := range list {
				if lw.c.Tensor(n) == nil {
					if err := lw.lacking(lw.m.PosOf(p.m)+": einsums."+p.e.Name(), "cascade %s has no tensor %s", lw.c.Name, n); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// build computes every Einsum's nest and access counts for the current
// derived values.
func (lw *lowering) build() error {
	m := lw.m
	lw.tile = map[string]int64{}
	lw.groups = nil
	for _, r := range m.Instances {
		n := int64(1)
		if v, ok := lw.shape[r]; ok {
			n = v
		}
		lw.groups = append(lw.groups, nloop{rank: r, bound: n})
	}
	for _, r := range m.TileOrder {
		size, ok := lw.sizes[r]
		if !ok || lw.c.Rank(r) == nil {
			return m.errorAt("tile."+r, true, "tile.%s: cascade %s has no rank %s (it has %s)", r, lw.c.Name, r, rankList(lw.c))
		}
		v, err := lw.eval(m.Tile[r], "tile."+r)
		if err != nil {
			return err
		}
		t, err := asCount(v, m.Tile[r])
		if err != nil {
			return m.errorAt("tile."+r, false, "tile.%s: %v", r, err)
		}
		if size%t != 0 {
			return m.errorAt("tile."+r, false, "tile.%s: a group of %d does not divide %s=%d; give a divisor of %d (%s)", r, t, r, size, size, nearDivisors(size, t))
		}
		lw.tile[r] = t
		lw.groups = append(lw.groups, nloop{rank: r, bound: size / t})
	}
	for _, p := range lw.ops {
		if err := lw.buildEinsum(p); err != nil {
			return err
		}
	}
	return nil
}

func (lw *lowering) extent(r string) int64 {
	if t, ok := lw.tile[r]; ok {
		return t
	}
	return lw.sizes[r]
}

func (lw *lowering) buildEinsum(p *eplan) error {
	e, m := p.e, lw.m
	ar := lw.a.Array(p.m.Unit)
	if ar == nil {
		var names []string
		for _, a := range lw.a.Arrays {
			names = append(names, a.Name)
		}
		return fmt.Errorf("%s: %s is bound to unit %q, which %s does not have (it has %s)", m.PosOf(p.m), e.Name(), p.m.Unit, lw.a.Name, strings.Join(names, ", "))
	}
	p.array = ar
	for i, a := range lw.a.Arrays {
		if a == ar {
			p.unit = i
		}
	}
	// What one point of the Einsum computes, and what that costs on the PE.
	p.abstract = pointOps(e)
	p.prims = map[string]int64{}
	for _, op := range sortedKeys(p.abstract) {
		ex, ok := ar.PE.Expand(op)
		if !ok {
			return fmt.Errorf("%s: %s needs %s, which a PE of %s can neither run nor build from its operations (%s)",
				m.PosOf(p.m), e.Name(), op, ar.Name, strings.Join(ar.PE.Capabilities(), ", "))
		}
		for k, v := range ex {
			p.prims[k] += v * p.abstract[op]
		}
	}
	// The nest below DRAM.
	nst := p.m.Nest
	if len(nst.Spatial) == 0 && len(nst.L3) == 0 && len(nst.DRAM) == 0 {
		if ord, ok := m.Orders[m.Stationarity][e.Name()]; ok && len(ord) == 3 {
			nst = Nest{Spatial: []string{ord[1], ord[2]}, L3: []string{ord[2], ord[1], ord[0]}}
		} else {
			nst = m.Units[p.m.Unit]
		}
	}
	vars := map[string]bool{}
	for _, r := range e.Vars {
		vars[r.Name] = true
	}
	dims := ar.Dims
	if len(dims) == 2 {
		dims = []int64{ar.Dims[1], ar.Dims[0]} // spatial lists columns first
	}
	if len(nst.Spatial) > len(dims) {
		return fmt.Errorf("%s: %s: %d spatial ranks for the %d dimensions of %s", m.PosOf(p.m), e.Name(), len(nst.Spatial), len(dims), ar.Name)
	}
	n := &nest{levels: 3}
	for _, g := range lw.groups {
		n.loops = append(n.loops, nloop{rank: g.rank, bound: g.bound, level: 0})
	}
	if e.Loop != nil {
		n.loops = append(n.loops, nloop{rank: e.Loop.Var.Name, bound: lw.sizes[e.Loop.Var.Name], level: 0})
	}
	spat := map[string]int64{}
	var spatial []nloop
	p.spatial = nil
	for i, r := range nst.Spatial {
		if !vars[r] {
			continue
		}
		b := min(dims[i], lw.extent(r))
		spat[r] = b
		spatial = append(spatial, nloop{rank: r, bound: b, level: 1, spatial: true})
		p.spatial = append(p.spatial, fmt.Sprintf("%s=%d", r, b))
	}
	placed := map[string]bool{}
	add := func(r string, level int) {
		if placed[r] || !vars[r] {
			return
		}
		placed[r] = true
		sp := spat[r]
		if sp == 0 {
			sp = 1
		}
		b := (lw.extent(r) + sp - 1) / sp
		n.loops = append(n.loops, nloop{rank: r, bound: b, level: level, inner: level == 0})
	}
	addL3 := func(r string) { add(r, 1) }
	for _, r := range nst.DRAM {
		add(r, 0)
	}
	for _, r := range nst.L3 {
		addL3(r)
	}
	for _, r := range e.Vars {
		addL3(r.Name)
	}
	n.loops = append(n.loops, spatial...)
	p.nest = n
	p.nInst = 1
	for _, l := range n.loops {
		if l.level == 0 && !l.inner {
			p.nInst *= l.bound
		}
	}
	// Accesses: where each is kept, and Timeloop's counts.
	p.acc = nil
	addAcc := func(a *einsum.Access, out bool) {
		t := a.Tensor
		src := t
		if s, ok := lw.alias[t.Name]; ok {
			src = s
		}
		x := &access{acc: a, tensor: src, name: t.Name, output: out, rel: map[string]bool{}}
		for _, r := range lw.m.Instances {
			x.rel[r] = true
		}
		for _, ix := range a.Index {
			for _, v := range ix.Vars() {
				x.rel[v.Name] = true
				for q := v.Parent; q != nil; q = q.Parent {
					x.rel[q.Name] = true
				}
			}
		}
		inRegs := contains(p.m.Registers, t.Name) || contains(p.m.Registers, src.Name)
		staged := contains(p.m.Staged, t.Name) || contains(p.m.Staged, src.Name)
		off := lw.offchip[t.Name] || lw.offchip[src.Name]
		on := lw.onchip[t.Name] || lw.onchip[src.Name]
		keep := contains(p.m.Keep, t.Name) || contains(p.m.Keep, src.Name)
		if !out && off && !staged && lw.readBack(p, t) {
			staged = true // read back before its store could issue: from the on-chip copy
		}
		if !inRegs {
			x.dram = off && !staged
			x.l3 = on || staged || keep
			x.spill = on || staged
		}
		if x.dram {
			x.keepers = append(x.keepers, 0)
		}
		if x.l3 {
			x.keepers = append(x.keepers, 1)
		}
		x.keepers = append(x.keepers, 2)
		rel := func(r string) bool { return x.rel[r] }
		x.cnt = n.count(x.keepers, rel, out)
		if x.l3 {
			x.foot = n.tile(1, rel)
		}
		p.acc = append(p.acc, x)
	}
	for _, a := range e.Reads() {
		addAcc(a, false)
	}
	addAcc(e.Output, true)
	return nil
}

// capacity enforces the global buffer's capacity: a mapping that declares
// no spill must fit (what overflows would otherwise be counted as on-chip
// accesses for free); one that declares a spill share measured at
// capacity SpillAt keeps its excess over the physical overflow there, and
// the physical overflow (1 - capacity/state) follows the capacity, so the
// buffer spills more when it shrinks and less when it grows. A state above capacity is explained in a warning: how much, and
// which tensors the buffer keeps.
func (lw *lowering) capacity() error {
	m, l3 := lw.m, globalBuffer(lw.a)
	need, cp := lw.need(), l3.CapacityBytes
	lw.spill = m.Spill
	if m.SpillAt > 0 && need > 0 {
		// What the declared share says beyond the physical overflow at
		// SpillAt stays; the physical overflow follows the capacity.
		over := func(c float64) float64 { return max(0, 1-c/need) }
		lw.spill = min(0.99, max(0, over(cp)+m.Spill-over(m.SpillAt)))
	}
	if need <= cp {
		return nil
	}
	if lw.spill == 0 {
		return m.overCapacity(need, l3)
	}
	lw.warn("the mapping keeps %.4g MiB in %s, which holds %.4g MiB: %.4g MiB over, and a share %.4g of its on-chip accesses spills to DRAM (counted as traffic); it keeps %s",
		need/(1<<20), l3.Name, cp/(1<<20), (need-cp)/(1<<20), lw.spill, lw.keptTensors())
	return nil
}

// keptTensors lists the tensors of the largest phase's global-buffer
// state with their bytes, largest first.
func (lw *lowering) keptTensors() string {
	foot := map[int]map[string]float64{}
	for _, p := range lw.ops {
		ph := lw.m.Phases[p.e.Name()]
		if foot[ph] == nil {
			foot[ph] = map[string]float64{}
		}
		for _, x := range p.acc {
			foot[ph][x.name] = math.Max(foot[ph][x.name], x.foot)
		}
	}
	var best map[string]float64
	var most float64
	for _, ph := range sortedKeysInt(foot) {
		sum := 0.0
		for _, v := range foot[ph] {
			sum += v
		}
		if best == nil || sum > most {
			best, most = foot[ph], sum
		}
	}
	names := sortedKeys(best)
	sort.SliceStable(names, func(i, j int) bool { return best[names[i]] > best[names[j]] })
	var parts []string
	for _, n := range names {
		if best[n] > 0 {
			parts = append(parts, fmt.Sprintf("%s %.4g MiB", n, best[n]*lw.word/(1<<20)))
		}
	}
	return strings.Join(parts, ", ")
}

func sortedKeysInt[V any](m map[int]V) []int {
	var k []int
	for x := range m {
		k = append(k, x)
	}
	sort.Ints(k)
	return k
}

// readBack reports whether p reads off-chip tensor t that an earlier
// Einsum of the same loop produces and stores too late for p's load: the
// load issues `prefetch` iterations ahead of p, the store `writeback`
// behind its producer, so with no stages between them (an output such as
// a row max that the next Einsum also reads) the value never makes the
// round trip through DRAM and is read where it was produced.
func (lw *lowering) readBack(p *eplan, t *einsum.Tensor) bool {
	var q *eplan
	for _, d := range t.Defs {
		if o, ok := lw.opOf[d]; ok {
			q = o
		}
	}
	if q == nil || q == p || q.inLoop != p.inLoop || lw.after(q, p) || lw.m.Phases[q.e.Name()] != lw.m.Phases[p.e.Name()] {
		return false // a later phase reads what an earlier one stored
	}
	return p.stage-lw.m.Prefetch < q.stage+lw.m.Writeback
}

// need is the global-buffer state of the mapping in bytes: every tensor
// kept there, at its largest tile.
// Phases run one after another, so the state is the largest phase's.
func (lw *lowering) need() float64 {
	foot := map[int]map[string]float64{}
	for _, p := range lw.ops {
		ph := lw.m.Phases[p.e.Name()]
		if foot[ph] == nil {
			foot[ph] = map[string]float64{}
		}
		for _, x := range p.acc {
			foot[ph][x.name] = math.Max(foot[ph][x.name], x.foot)
		}
	}
	var most float64
	for _, f := range foot {
		var sum float64
		for _, k := range sortedKeys(f) {
			sum += f[k]
		}
		most = math.Max(most, sum)
	}
	return most * lw.word
}
