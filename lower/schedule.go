package lower

import (
	"fmt"
	"sort"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/sim"
)

// xfer collects one Einsum's DRAM traffic at one loop level.
type xfer struct {
	readBytes, writeBytes float64
	keptBytes             map[int]float64 // of the bytes, those of accesses a staging level keeps (not staged through it)
	// decideBytes are reads of what a data filter compares (Sel): read
	// whole, since a tile is known to be skipped only once they are read.
	decideBytes float64
	alloc       float64 // global-buffer bytes a load brings in
	deferFree   bool    // the consumer frees it only on its loop's last iteration
	after       []*sim.Op
}

// The schedule pass turns the counted Einsums into a sim.Schedule: a root
// loop, the outer DRAM loop over groups, and inside it the cascade's
// iterate loop, with one operation per Einsum and DRAM transfers around
// them, dependencies from the cascade's data flow and back-pressure from
// the mapping's buffers.
type scheduler struct {
	lw            *lowering
	s             *sim.Schedule
	plan          *Plan
	dram          *arch.Memory
	dramUnit      int
	bytesPerCycle float64
	root, group   *sim.Loop
	inner         *sim.Loop // the iterate loop, once an Einsum in it is placed
	innerAt       int       // position of the iterate loop in the group body
	preLoop       []sim.Item
	stores        map[string]*sim.Op // tensor → the op that writes it to DRAM
	ports         map[int]int        // nest level of an on-chip memory with a bandwidth → its port's unit
	phaseOf       map[*sim.Op]int    // group-level items, when the mapping runs phases in sequence
}

// schedule runs the pass: every operation first, so that dependencies can
// name them, then each Einsum's transfers, dependencies and place in the
// body, in cascade order.
func (lw *lowering) schedule() (*Plan, error) {
	sc := lw.newScheduler()
	for _, p := range lw.ops {
		if err := sc.makeOp(p); err != nil {
			return nil, err
		}
	}
	for _, p := range lw.ops {
		if err := sc.emit(p); err != nil {
			return nil, err
		}
	}
	return sc.finish()
}

// newScheduler starts the schedule: the units (the arrays, then DRAM),
// the per-action energies, the occupancy levels, the root and group loops.
func (lw *lowering) newScheduler() *scheduler {
	a := lw.a
	s := &sim.Schedule{ClockHz: a.ClockHz, EnergyPJ: map[string]float64{}}
	for _, ar := range a.Arrays {
		s.Units = append(s.Units, sim.Unit{Name: ar.Name})
	}
	dram, gb := a.Memories[0], globalBuffer(a)
	sc := &scheduler{lw: lw, s: s, dram: dram, dramUnit: len(s.Units), bytesPerCycle: dram.Bandwidth / a.ClockHz,
		stores: map[string]*sim.Op{}, phaseOf: map[*sim.Op]int{}}
	s.Units = append(s.Units, sim.Unit{Name: dram.Name, Memory: true})
	sc.ports = map[int]int{}
	for k := 1; k <= lw.gb(); k++ {
		if mem := a.Memories[k]; mem.Bandwidth > 0 {
			sc.ports[k] = len(s.Units)
			s.Units = append(s.Units, sim.Unit{Name: mem.Name + " port", Memory: true})
		}
	}
	s.Levels = []string{gb.Name}
	for _, mem := range []*arch.Memory{dram, gb} {
		s.EnergyPJ[mem.Name+".read"] = mem.ReadPJ
		s.EnergyPJ[mem.Name+".write"] = mem.WritePJ
	}
	for _, ar := range a.Arrays {
		s.EnergyPJ[ar.Name+".rf.read"] = ar.PE.RegFile.ReadPJ
		s.EnergyPJ[ar.Name+".rf.write"] = ar.PE.RegFile.WritePJ
		for op, o := range ar.PE.Ops {
			s.EnergyPJ[ar.Name+"."+op] = o.EnergyPJ
		}
	}
	addStagingLevels(a, s)
	var G int64 = 1
	for _, g := range lw.groups {
		G *= g.bound
	}
	sc.group = &sim.Loop{Name: "group", Count: G}
	sc.root = &sim.Loop{Name: "run", Count: 1, Body: []sim.Item{sc.group}}
	s.Root = sc.root
	sc.plan = &Plan{Schedule: s, Sizes: lw.sizes, Derived: lw.derived, Groups: G, Variant: lw.m.Variant,
		Need: map[string]float64{gb.Name: lw.need()}, lw: lw}
	for k := 1; k < lw.gb(); k++ {
		if need := lw.needAt(k); need > 0 {
			sc.plan.Need[a.Memories[k].Name] = need
		}
	}
	return sc
}

// makeOp is p's tile operation: its cycles, latency (pipeline fill, a
// declared drain), actions, all scaled by the share of work masked tiles
// leave it; and its line of the plan.
func (sc *scheduler) makeOp(p *eplan) error {
	lw, e := sc.lw, p.e
	cycles := lw.tileCycles(p)
	op := &sim.Op{Name: e.Name(), Einsum: e.Name(), Unit: p.unit, Cycles: cycles, PEFrac: lw.peFrac(p),
		Stage: p.stage, Actions: lw.tileActions(p)}
	if lw.opt.PipelineLatency && len(p.array.Dims) == 2 {
		op.Latency = float64(p.array.Dims[0] + p.array.Dims[1] - 2)
	}
	if drain := lw.prof.drainOf(lw.m, p.m, e.Name()); drain != "" {
		d, err := lw.eval(drain, "einsums."+e.Name()+".drain")
		if err != nil {
			return err
		}
		if d < 0 || d > maxDrain {
			return lw.m.errorAt("einsums."+e.Name()+".drain", false, "einsums.%s.drain: %q is %g; a drain is a number of the operation's durations from 0 to %d", e.Name(), drain, d, maxDrain)
		}
		op.Latency += d * cycles
	}
	sh := lw.share(p)
	op.Cycles *= sh.fine
	for k, v := range op.Actions {
		op.Actions[k] = v * sh.fine
		if v == 0 || sh.fine == 0 {
			delete(op.Actions, k)
		}
	}
	p.op = op
	sc.plan.Einsums = append(sc.plan.Einsums, EinsumPlan{Name: e.Name(), Unit: p.array.Name, Ops: p.prims, Instances: p.nInst,
		Cycles: cycles, PEFrac: op.PEFrac, Spatial: fmt.Sprint(p.spatial), Class: ClassOf(e), BoundBy: p.boundBy, Nest: lw.nestText(p),
		Masked: sh.masked, Useful: sh.useful, Tiles: sh.cells, TilesSkipped: sh.skipped, WorkShare: sh.fine})
	return nil
}

// loopOf is the loop p's operation runs in.
func (sc *scheduler) loopOf(p *eplan) *sim.Loop {
	if p.inLoop {
		return sc.inner
	}
	return sc.group
}

// producer is the last operation that writes t, if any.
func (sc *scheduler) producer(t *einsum.Tensor) *eplan {
	var last *eplan
	for _, d := range t.Defs {
		if q, ok := sc.lw.opOf[d]; ok {
			last = q
		}
	}
	return last
}

// appendItem puts an item of p's in loop l's body (a group-level item
// remembers its phase).
func (sc *scheduler) appendItem(l *sim.Loop, it *sim.Op, p *eplan) {
	if l == sc.inner {
		sc.inner.Body = append(sc.inner.Body, it)
		return
	}
	sc.group.Body = append(sc.group.Body, it)
	sc.phaseOf[it] = sc.lw.m.Phases[p.e.Name()]
}

// emit places p: its loads, its dependencies, the operation, its store.
func (sc *scheduler) emit(p *eplan) error {
	if p.inLoop && sc.inner == nil {
		sc.inner = &sim.Loop{Name: p.e.Loop.Var.Var(), Count: sc.lw.sizes[p.e.Loop.Var.Name]}
		sc.innerAt = len(sc.group.Body)
		sc.group.Body = append(sc.group.Body, sc.inner)
	}
	own := sc.loopOf(p)
	loads, store := sc.transfers(p, own)
	for _, l := range []*sim.Loop{sc.group, sc.inner} { // the group-level load first
		if l != nil && loads[l] != nil {
			if err := sc.emitLoad(p, own, l, loads[l]); err != nil {
				return err
			}
		}
	}
	if err := sc.dataDeps(p); err != nil {
		return err
	}
	sc.emitPorts(p, own)
	sc.appendItem(own, p.op, p)
	if store.writeBytes > 0 {
		return sc.emitStore(p, own, store)
	}
	return nil
}

// transfers is p's DRAM traffic: loads per loop (an input that does not
// change with the iterate loop is loaded once per group), and the bytes
// its store writes, spill traffic included.
func (sc *scheduler) transfers(p *eplan, own *sim.Loop) (map[*sim.Loop]*xfer, *xfer) {
	lw := sc.lw
	loads := map[*sim.Loop]*xfer{}
	store := &xfer{}
	for _, x := range p.acc {
		at := own
		if x.dram && p.inLoop && !lw.changesPerIteration(p, x) {
			at = sc.group
		}
		dr, dw := lw.dramAccess(x)
		sr, sw := lw.spillAccess(x)
		if dr > 0 {
			if loads[at] == nil {
				loads[at] = &xfer{}
			}
			lx := loads[at]
			if decidesFilter(p.e, x.acc) {
				lx.decideBytes += dr * lw.word
			} else {
				lx.readBytes += dr * lw.word
			}
			lx.keep(x, dr*lw.word)
			if x.l3 {
				lx.alloc += x.foot * lw.word
				lx.deferFree = at != own
			}
			if q := sc.producer(x.tensor); q != nil && !x.output {
				if st := sc.stores[x.tensor.Name]; st != nil {
					lx.after = append(lx.after, st)
				}
			}
		}
		if sr > 0 {
			if loads[own] == nil {
				loads[own] = &xfer{}
			}
			loads[own].readBytes += sr * lw.word
		}
		store.writeBytes += (dw + sw) * lw.word
		store.keep(x, dw*lw.word)
	}
	return loads, store
}

// keep notes that bytes of a transfer belong to access x, which the
// levels it is kept at between DRAM and the global buffer do not stage.
func (t *xfer) keep(x *access, bytes float64) {
	for k := range x.footAt {
		if t.keptBytes == nil {
			t.keptBytes = map[int]float64{}
		}
		t.keptBytes[k] += bytes
	}
}

// stagedShare is the share of a transfer of total bytes that passes
// through nest level k without being kept there.
func (t *xfer) stagedShare(k int, total float64) float64 {
	if total == 0 {
		return 0
	}
	return 1 - t.keptBytes[k]/total
}

// dramAccess is an access's DRAM reads and writes in words: the part that
// would spill is not loaded at all.
func (lw *lowering) dramAccess(x *access) (dr, dw float64) {
	if !x.dram {
		return 0, 0
	}
	f := 1.0
	if x.spill {
		f = 1 - lw.spill
	}
	dr = lw.prof.dramRead(x.cnt, x.output)
	if x.output {
		dw = x.cnt.Updates[levelDRAM]
	}
	return dr * f, dw * f
}

// spillAccess is the DRAM traffic in words of an on-chip access's share
// that overflows the global buffer (an output's first reads elided).
func (lw *lowering) spillAccess(x *access) (sr, sw float64) {
	if !x.l3 || !x.spill || lw.spill <= 0 {
		return 0, 0
	}
	c := x.cnt
	r := c.Reads[lw.gb()]
	if x.output && r == c.Updates[lw.gb()] {
		r = 0
	}
	return lw.spill * r, lw.spill * c.Updates[lw.gb()]
}

// emitLoad adds p's load at loop l: per tile operation (or per group) and
// scaled by the tiles masks leave, issued `prefetch` stages ahead, bounded
// by `buffers` iterations, after the store of what it reads back.
func (sc *scheduler) emitLoad(p *eplan, own, l *sim.Loop, lx *xfer) error {
	lw, m := sc.lw, sc.lw.m
	ld := &sim.Op{Name: "load " + p.e.Name(), Unit: sc.dramUnit, PEFrac: 1, Actions: map[string]float64{}}
	n := float64(p.nInst)
	if l == sc.group && p.inLoop {
		n /= float64(sc.inner.Count)
	}
	f := lw.share(p).tile
	if l == sc.group {
		f = lw.share(p).group
	}
	lw.skippedBytes += lx.readBytes * (1 - f)
	ld.Bytes = lx.readBytes*(f/n) + lx.decideBytes/n
	ld.Cycles = lx.readBytes/sc.bytesPerCycle*(f/n) + lx.decideBytes/n/sc.bytesPerCycle
	ld.Actions[sc.dram.Name+".read"] = ld.Bytes / sc.dram.WidthBytes
	if err := lw.stage(ld, func(k int) float64 { return lx.stagedShare(k, lx.readBytes+lx.decideBytes) }); err != nil {
		return err
	}
	sc.throttle(ld)
	ld.Stage = p.stage - m.Prefetch
	if l != own {
		ld.Stage = -m.Prefetch
	}
	ld.Deps = append(ld.Deps, sim.Dep{Op: p.op, Loop: l, Back: m.Buffers})
	for _, st := range lx.after {
		ld.Deps = append(ld.Deps, sim.Dep{Op: st, Loop: sc.group})
	}
	if lx.alloc > 0 {
		ld.Alloc = append(ld.Alloc, sim.Hold{Level: 0, Bytes: lx.alloc})
		when := sim.Every
		if lx.deferFree {
			when = sim.Last
		}
		p.op.Free = append(p.op.Free, sim.Hold{Level: 0, Bytes: lx.alloc, When: when})
	}
	p.op.Deps = append(p.op.Deps, sim.Dep{Op: ld, Loop: l})
	if l == sc.group && p.inLoop {
		sc.preLoop = append(sc.preLoop, ld)
		return nil
	}
	sc.appendItem(l, ld, p)
	return nil
}

// dataDeps makes p wait for the producers of what it reads (at the
// iteration distance of the read), and a producer on another unit wait
// for p: the buffer between two units holds `buffers` iterations, so a
// producer cannot run further ahead of its consumer (without it a fast
// producer would race ahead forever and the loop would never reach a
// steady state).
func (sc *scheduler) dataDeps(p *eplan) error {
	lw, e := sc.lw, p.e
	for _, x := range p.acc {
		if x.output {
			continue
		}
		q := sc.producer(x.tensor)
		if q == nil || q == p && x.tensor != e.Output.Tensor {
			continue
		}
		d := sim.Dep{Op: q.op, Loop: sc.group}
		if q.inLoop && p.inLoop {
			d.Loop = sc.inner
			d.Back = distance(e.Loop.Var, q.e.Output, x.acc)
			if d.Back == 0 && lw.after(q, p) {
				return fmt.Errorf("%s: %s reads %s in the same iteration before it is written", e.Pos, e.Name(), x.tensor.Name)
			}
		}
		p.op.Deps = append(p.op.Deps, d)
		if q.op.Unit != p.op.Unit && q.inLoop == p.inLoop && q != p {
			q.op.Deps = append(q.op.Deps, sim.Dep{Op: p.op, Loop: d.Loop, Back: lw.m.Buffers + max(0, p.stage-q.stage)})
		}
	}
	return nil
}

// emitStore adds p's store of writeBytes per tile operation (scaled by the
// tiles masks leave), `writeback` stages behind it.
func (sc *scheduler) emitStore(p *eplan, own *sim.Loop, sx *xfer) error {
	lw, writeBytes := sc.lw, sx.writeBytes
	n := float64(p.nInst)
	f := lw.share(p).tile
	if own == sc.group {
		f = lw.share(p).group
	}
	lw.skippedBytes += writeBytes * (1 - f)
	st := &sim.Op{Name: "store " + p.e.Name(), Unit: sc.dramUnit, Cycles: writeBytes * f / sc.bytesPerCycle / n, PEFrac: 1,
		Bytes: writeBytes * f / n, Stage: p.stage + lw.m.Writeback, Actions: map[string]float64{},
		Deps: []sim.Dep{{Op: p.op, Loop: own}}}
	st.Actions[sc.dram.Name+".write"] = st.Bytes / sc.dram.WidthBytes
	if err := lw.stage(st, func(k int) float64 { return sx.stagedShare(k, writeBytes) }); err != nil {
		return err
	}
	sc.throttle(st)
	sc.appendItem(own, st, p)
	sc.stores[p.e.Output.Tensor.Name] = st
	return nil
}

// finish orders the group body (loads of per-group inputs before the
// iterate loop), adds one-at-a-time iterations, buffer holds, the unused
// level notes, and splits the phases.
func (sc *scheduler) finish() (*Plan, error) {
	lw, m, group, inner := sc.lw, sc.lw.m, sc.group, sc.inner
	if m.OneAtATime && inner != nil {
		lw.oneAtATime(group, inner)
	}
	if len(sc.preLoop) > 0 {
		body := append([]sim.Item{}, group.Body[:sc.innerAt]...)
		body = append(body, sc.preLoop...)
		group.Body = append(body, group.Body[sc.innerAt:]...)
	}
	lw.holds()
	lw.noteUnusedLevels(sc.plan)
	sc.plan.Warnings = lw.warnings
	if len(m.Phases) > 0 {
		if inner != nil {
			return nil, m.errorAt("phases", true, "phases: cascade %s iterates (%s), and an iteration cannot be split across phases; drop phases, or use a cascade without an iterate block", lw.c.Name, inner.Name)
		}
		splitPhases(sc.root, group, sc.phaseOf)
	}
	return sc.plan, nil
}

// share is the work an operation does once masked tiles are skipped.
func (lw *lowering) share(p *eplan) *skipShare {
	if sh, ok := lw.skip[p]; ok {
		return sh
	}
	return &skipShare{fine: 1, tile: 1, group: 1, useful: 1}
}

// splitPhases runs each phase's operations over all groups before the next
// phase starts: one group loop per phase, in phase order. A dependency on
// an earlier phase waits for all of it; back-pressure from a later phase
// no longer applies.
func splitPhases(root, group *sim.Loop, phaseOf map[*sim.Op]int) {
	var order []int
	loops := map[int]*sim.Loop{}
	for _, it := range group.Body {
		o := it.(*sim.Op)
		ph := phaseOf[o]
		if loops[ph] == nil {
			loops[ph] = &sim.Loop{Name: fmt.Sprintf("%s phase %d", group.Name, ph), Count: group.Count}
			order = append(order, ph)
		}
		loops[ph].Body = append(loops[ph].Body, o)
	}
	sort.Ints(order)
	root.Body = nil
	for _, ph := range order {
		root.Body = append(root.Body, loops[ph])
		for _, it := range loops[ph].Body {
			o := it.(*sim.Op)
			deps := o.Deps[:0]
			for _, d := range o.Deps {
				switch dp := phaseOf[d.Op]; {
				case dp == ph:
					d.Loop = loops[ph]
				case dp < ph:
					d = sim.Dep{Op: d.Op, Loop: root}
				default:
					continue
				}
				deps = append(deps, d)
			}
			o.Deps = deps
		}
	}
}

// oneAtATime makes every compute operation of an iteration wait for the
// last operation of each unit in the previous iteration, the previous
// group's last iteration included: a unit runs in issue order, so that is
// the whole previous iteration.
func (lw *lowering) oneAtATime(group, inner *sim.Loop) {
	last := map[int]*sim.Op{}
	var units []int
	for _, it := range inner.Body {
		if o, ok := it.(*sim.Op); ok && o.Einsum != "" {
			if last[o.Unit] == nil {
				units = append(units, o.Unit)
			}
			last[o.Unit] = o
		}
	}
	for _, it := range inner.Body {
		if o, ok := it.(*sim.Op); ok && o.Einsum != "" {
			for _, u := range units {
				o.Deps = append(o.Deps, sim.Dep{Op: last[u], Loop: inner, Back: 1}, sim.Dep{Op: last[u], Loop: group, Back: 1})
			}
		}
	}
}

// changesPerIteration reports whether an access's DRAM tile changes with
// the iterate loop (BK does, Q does not): the loop is among the relevant
// DRAM loops above the global buffer.
func (lw *lowering) changesPerIteration(p *eplan, x *access) bool {
	return x.rel[p.e.Loop.Var.Name]
}

// after reports whether q comes after p in the cascade.
func (lw *lowering) after(q, p *eplan) bool {
	for _, o := range lw.ops {
		if o == p {
			return true
		}
		if o == q {
			return false
		}
	}
	return false
}

// distance is how many iterations of the iterate rank separate a read from
// the write it sees: RM[m1+1] written, RM[m1] read → 1.
func distance(v *einsum.Rank, w, r *einsum.Access) int {
	off := func(a *einsum.Access) (int64, bool) {
		for _, ix := range a.Index {
			if !ix.Coef(v).IsZero() {
				c, ok := ix.Const.IsConst()
				return c, ok
			}
		}
		return 0, false
	}
	wo, ok1 := off(w)
	ro, ok2 := off(r)
	if !ok1 || !ok2 || wo < ro {
		return 0
	}
	return int(wo - ro)
}

// holds gives tensors that live on chip without a DRAM copy their buffer
// space, and the tiles a level between DRAM and the global buffer keeps
// theirs there: taken by the first operation of a group that uses them,
// given back by the last.
func (lw *lowering) holds() {
	type span struct {
		level       int // the sim level: 0 the global buffer, k the memory k between DRAM and it
		first, last *eplan
		foot        float64
	}
	type key struct {
		level int
		name  string
	}
	spans := map[key]*span{}
	var order []key
	note := func(p *eplan, k key, foot float64) {
		sp := spans[k]
		if sp == nil {
			sp = &span{level: k.level, first: p}
			spans[k] = sp
			order = append(order, k)
		}
		sp.last = p
		sp.foot = max(sp.foot, foot)
	}
	for _, p := range lw.ops {
		for _, x := range p.acc {
			if x.l3 && !x.dram {
				note(p, key{0, x.name}, x.foot)
			}
			for k, f := range x.footAt {
				note(p, key{k, x.name}, f)
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].level < order[j].level })
	for _, k := range order {
		sp := spans[k]
		b := sp.foot * lw.word
		wf, wl := sim.Every, sim.Every
		if sp.first.inLoop {
			wf = sim.First
		}
		if sp.last.inLoop {
			wl = sim.Last
		}
		sp.first.op.Alloc = append(sp.first.op.Alloc, sim.Hold{Level: sp.level, Bytes: b, When: wf})
		sp.last.op.Free = append(sp.last.op.Free, sim.Hold{Level: sp.level, Bytes: b, When: wl})
	}
}

// portBytes is what op moves through the on-chip memory at nest level k:
// its reads and writes there.
func (sc *scheduler) portBytes(op *sim.Op, k int) float64 {
	mem := sc.lw.a.Memories[k]
	return (op.Actions[mem.Name+".read"] + op.Actions[mem.Name+".write"]) * mem.WidthBytes
}

// emitPorts gives p's traffic through each on-chip memory with a bandwidth
// its own operation on that memory's port, before p and bounded by the
// mapping's buffers like a load: a level's bandwidth is a unit the
// operations share.
func (sc *scheduler) emitPorts(p *eplan, own *sim.Loop) {
	m := sc.lw.m
	for _, k := range sortedKeysInt(sc.ports) {
		b := sc.portBytes(p.op, k)
		if b == 0 {
			continue
		}
		mem := sc.lw.a.Memories[k]
		po := &sim.Op{Name: mem.Name + " " + p.e.Name(), Unit: sc.ports[k], Cycles: b / (mem.Bandwidth / sc.lw.a.ClockHz), PEFrac: 1,
			Stage: p.stage - m.Prefetch, Deps: []sim.Dep{{Op: p.op, Loop: own, Back: m.Buffers}}}
		p.op.Deps = append(p.op.Deps, sim.Dep{Op: po, Loop: own})
		sc.appendItem(own, po, p)
	}
}

// throttle makes a DRAM transfer take at least as long as the slowest
// on-chip level with a bandwidth it passes through.
func (sc *scheduler) throttle(op *sim.Op) {
	for _, k := range sortedKeysInt(sc.ports) {
		mem := sc.lw.a.Memories[k]
		op.Cycles = max(op.Cycles, sc.portBytes(op, k)/(mem.Bandwidth/sc.lw.a.ClockHz))
	}
}
